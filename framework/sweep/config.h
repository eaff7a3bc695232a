#pragma once
// A sweep file (TOML) read into plain structs. The format is documented in
// framework/sweep/README.md. Every value keeps the place it came from ("file:line", or the
// command-line override) so that later errors can point at it.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kprune::sweep {

// One grid axis or fixed parameter: a key and its values in canonical text.
struct Axis {
  std::string key;
  std::vector<std::string> values;
  std::string where;  // "configs/x.toml:12" or "command line 'a.b=c'"
};

// Jobs match a rule when, for every key of the rule, the job's value is one of the listed.
struct MatchRule {
  std::vector<Axis> keys;
  std::string where;
};

struct GridSpec {
  std::string name;
  std::string kind;
  std::string where;
  std::vector<Axis> axes;                   // cartesian product; a scalar is a one-value axis
  std::vector<std::vector<Axis>> zips;      // each group varies together
  std::vector<std::vector<Axis>> includes;  // extra combinations, merged over the scalars
  std::vector<MatchRule> excludes;
};

struct ModelSpec {
  std::string name;
  std::string where;
  std::map<std::string, std::string> checkpoints;       // task -> directory ("*" for any task)
  std::map<std::string, std::string> checkpoint_where;  // task -> where it was given
  // A recipe builds the checkpoint first: a job of `recipe_kind` with these parameters.
  std::string recipe_kind;
  std::vector<Axis> recipe;
};

struct SweepSettings {
  std::string name = "sweep";
  std::string output = "results.h5";
  std::string device = "auto";
  std::vector<std::string> seeds;  // from `seeds` or `repetitions`
  int retries = 0;
  std::string sample_size;  // canonical text; empty: the job kind's default
  std::string artifacts;    // recipe outputs; default: <output without .h5>.artifacts
  std::map<std::string, std::string> where;  // key ("output", "device") -> where it was given
};

struct SweepConfig {
  std::string path;
  std::string text;  // the file's text followed by the overrides, as stored with results
  SweepSettings sweep;
  std::map<std::string, std::string> data;
  std::map<std::string, std::string> data_where;  // [data] key -> where it was given
  std::map<std::string, ModelSpec> models;
  std::vector<GridSpec> grids;
  std::map<std::string, std::vector<Axis>> pruners;  // pruner name -> its parameter axes
};

// Parses `path` and applies `overrides` ("sweep.device=cpu", "pruners.kprune.mu=[32,64]")
// before validation. Throws kprune::Error naming the file and line.
SweepConfig load_config(const std::string& path, const std::vector<std::string>& overrides = {});
SweepConfig parse_config(const std::string& text, const std::string& path,
                         const std::vector<std::string>& overrides = {});

}  // namespace kprune::sweep
