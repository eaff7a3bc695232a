#pragma once
// What a job needs before it can start: each job kind names the inputs of a job that are
// missing or unusable (JobKind::check_inputs), so that a sweep can list every problem before
// any job runs (preflight.h).
#include <map>
#include <set>
#include <string>
#include <vector>

namespace kprune::sweep {

struct InputProblem {
  std::string category;  // how the report groups it: "checkpoints", "data", "corpora", ...
  std::string key;       // the job parameter or config key that asked for it: "checkpoint"
  std::string path;
  std::string what;  // "not a directory", "missing config.json", ...
  std::string hint;  // what to do, printed once under the list however many problems share it
};

class InputCheckContext {
 public:
  std::map<std::string, std::string> data_dirs;  // [data] of the config
  std::string artifacts_dir;

  // Paths that a job of the same sweep writes before the jobs that read them run (a recipe's
  // teacher, a shared training): present for the check.
  void add_produced(const std::string& path);
  bool produced(const std::string& path) const;

  // Checks shared by many jobs (one teacher for every ratio) run once: the problems of `key`,
  // computed by `check` on the first call.
  template <typename Check>
  const std::vector<InputProblem>& once(const std::string& key, Check check) {
    auto it = memo_.find(key);
    if (it == memo_.end()) it = memo_.emplace(key, check()).first;
    return it->second;
  }

 private:
  std::set<std::string> produced_;
  std::map<std::string, std::vector<InputProblem>> memo_;
};

}  // namespace kprune::sweep
