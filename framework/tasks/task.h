#pragma once
// The task registry: every task (the eight GLUE tasks, the synthetic demo task, later SQuAD)
// is one TaskSpec found by name. Callers only see TaskSpec and read_examples(); how a task's
// files are laid out is the business of its reader.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "framework/model/config.h"

namespace kprune {

// One labelled (or unlabelled) input as read from a task file.
struct Example {
  std::string text_a;
  std::optional<std::string> text_b;
  double label = 0;  // class index, or the score for regression; NaN if unlabelled (test split)
  int64_t line = 0;  // 1-based line of the source file, for messages
};

// What a reader does with a row it cannot parse (wrong column count, unknown label,
// unparsable score).
enum class MalformedRows {
  error,  // throw kprune::Error naming file:line, what was expected and what was found
  skip,   // drop the row, log a warning naming file:line, and report it in SplitData::skipped
};

struct ReadOptions {
  // Unset: the task's own default (TaskSpec::malformed_rows).
  std::optional<MalformedRows> malformed_rows;
};

struct SkippedRow {
  int64_t line = 0;
  std::string reason;
};

struct SplitData {
  std::string path;  // the file that was read
  std::vector<Example> examples;
  std::vector<SkippedRow> skipped;
};

struct TaskSpec;
// Reads split `split` of the task from `data_dir` (the folder holding the task folders).
using TaskReader = std::function<SplitData(const TaskSpec& task, const std::string& data_dir,
                                           const std::string& split, const ReadOptions& options)>;

struct TaskSpec {
  std::string name;      // our name: "sst2"
  std::string dir_name;  // folder under the data dir: "SST-2"
  // Whose data folder holds it: "glue", "squad" or "synthetic" (the sweep's [data] keys).
  std::string data_family = "glue";
  HeadKind head_kind = HeadKind::classification;
  int64_t num_labels = 2;                // 1 for regression
  std::vector<std::string> label_names;  // label i as written in the files; empty for regression
  int64_t max_seq_len = 128;
  std::string main_metric;           // the one the reference reports
  std::vector<std::string> metrics;  // names in the metric registry (metrics.h)
  std::vector<std::string> splits;   // the splits of the distribution
  std::string train_split = "train";
  std::string dev_split = "dev";        // what "evaluate on dev" means (MNLI: dev_matched)
  std::string file_extension = ".tsv";  // a split is <data dir>/<dir_name>/<split><extension>
  MalformedRows malformed_rows = MalformedRows::error;
  TaskReader read;
};

// Unknown name -> kprune::Error listing the known ones.
const TaskSpec& find_task(const std::string& name);
std::vector<std::string> task_names();

// The --data-dir of the CLI when none is given: ../shared/data/squad for the QA tasks, else
// ../shared/data/glue (the synthetic task has no shared copy; it lives wherever it was written).
std::string default_data_dir(const TaskSpec& task);

// The file that holds `split` of the task under `data_dir`.
std::string split_path(const TaskSpec& task, const std::string& data_dir, const std::string& split);

// Reads a split through the task's reader. `split` may be any file stem the reader accepts
// (e.g. "train-subset-23497"), not only the names in TaskSpec::splits.
SplitData read_split(const TaskSpec& task, const std::string& data_dir, const std::string& split,
                     const ReadOptions& options = {});
std::vector<Example> read_examples(const TaskSpec& task, const std::string& data_dir,
                                   const std::string& split, const ReadOptions& options = {});

}  // namespace kprune
