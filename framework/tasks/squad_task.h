#pragma once
// Tasks `squad` (v1.1) and `squad_v2` (v2.0) in the task registry. Their files are the official
// JSON ones: <data_dir>/<dir_name>/<split>.json, e.g. squad/v2.0/dev-v2.0.json.
//
// The registry's generic Example view (text_a = question, text_b = context, no label) exists for
// listing and counting; question answering itself goes through read_squad_file() and the
// squad_* features, decoding and metrics, which keep answers and character offsets.
#include <string>
#include <vector>

#include "framework/tasks/task.h"

namespace kprune {

std::vector<TaskSpec> squad_task_specs();

// <data_dir>/<task.dir_name>/<split>.json
std::string squad_split_path(const TaskSpec& task, const std::string& data_dir,
                             const std::string& split);

}  // namespace kprune
