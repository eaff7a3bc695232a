#include "framework/tasks/task.h"

#include <fmt/format.h>

#include <filesystem>

#include "framework/tasks/glue.h"
#include "framework/tasks/squad_task.h"
#include "framework/tasks/synthetic.h"
#include "framework/util/error.h"

namespace kprune {
namespace {

// The registry. Adding a family of tasks is one line here; adding a GLUE-format task is one
// entry in its family's list.
const std::vector<TaskSpec>& all_tasks() {
  static const std::vector<TaskSpec> tasks = [] {
    std::vector<TaskSpec> list = glue_task_specs();
    list.push_back(synthetic_task_spec());
    for (auto& spec : squad_task_specs()) list.push_back(std::move(spec));
    return list;
  }();
  return tasks;
}

}  // namespace

const TaskSpec& find_task(const std::string& name) {
  for (const auto& task : all_tasks()) {
    if (task.name == name) return task;
  }
  fail("unknown task '{}'; known tasks: {}", name, fmt::join(task_names(), ", "));
}

std::vector<std::string> task_names() {
  std::vector<std::string> names;
  for (const auto& task : all_tasks()) names.push_back(task.name);
  return names;
}

std::string default_data_dir(const TaskSpec& task) {
  return task.data_family == "squad" ? "../shared/data/squad" : "../shared/data/glue";
}

std::string split_path(const TaskSpec& task, const std::string& data_dir,
                       const std::string& split) {
  return (std::filesystem::path(data_dir) / task.dir_name / (split + task.file_extension)).string();
}

SplitData read_split(const TaskSpec& task, const std::string& data_dir, const std::string& split,
                     const ReadOptions& options) {
  if (!task.read) fail("task {} has no reader", task.name);
  return task.read(task, data_dir, split, options);
}

std::vector<Example> read_examples(const TaskSpec& task, const std::string& data_dir,
                                   const std::string& split, const ReadOptions& options) {
  return read_split(task, data_dir, split, options).examples;
}

}  // namespace kprune
