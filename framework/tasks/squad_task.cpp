#include "framework/tasks/squad_task.h"

#include <cmath>
#include <filesystem>

#include "framework/tasks/squad_data.h"

namespace kprune {
namespace {

SplitData read_squad_split(const TaskSpec& task, const std::string& data_dir,
                           const std::string& split, const ReadOptions& /*options*/) {
  SplitData data;
  data.path = squad_split_path(task, data_dir, split);
  const SquadDataset dataset = read_squad_file(data.path);
  int64_t index = 0;
  for (const SquadQuestion& question : dataset.questions) {
    Example example;
    example.text_a = question.question;
    example.text_b = dataset.context_of(question);
    example.label = std::nan("");
    example.line = ++index;  // the question's 1-based position in the file
    data.examples.push_back(std::move(example));
  }
  return data;
}

TaskSpec squad_spec(const std::string& name, const std::string& version) {
  TaskSpec spec;
  spec.name = name;
  spec.dir_name = version;
  spec.data_family = "squad";
  spec.file_extension = ".json";
  spec.head_kind = HeadKind::question_answering;
  spec.num_labels = 2;  // start and end logits
  spec.max_seq_len = 384;
  spec.main_metric = "f1";  // what the K-prune paper reports
  spec.metrics = {"exact", "f1"};
  spec.train_split = "train-" + version;
  spec.dev_split = "dev-" + version;
  spec.splits = {spec.train_split, spec.dev_split};
  spec.read = read_squad_split;
  return spec;
}

}  // namespace

std::vector<TaskSpec> squad_task_specs() {
  return {squad_spec("squad", "v1.1"), squad_spec("squad_v2", "v2.0")};
}

std::string squad_split_path(const TaskSpec& task, const std::string& data_dir,
                             const std::string& split) {
  return split_path(task, data_dir, split);
}

}  // namespace kprune
