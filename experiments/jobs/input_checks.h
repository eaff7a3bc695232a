#pragma once
// The inputs the job kinds read, checked without loading them (JobKind::check_inputs): the
// preflight of kprune-sweep lists every problem before any job runs.
#include <string>
#include <vector>

#include "framework/sweep/input_check.h"
#include "framework/tasks/task.h"
#include "framework/util/params.h"

namespace kprune::jobs {

using InputProblems = std::vector<sweep::InputProblem>;

// A checkpoint folder as load_checkpoint() reads it: config.json, model.safetensors (its
// header), vocab.txt; with a task, its head must match the task. `key`: the job parameter that
// names it. A path that an earlier job of the sweep writes passes.
InputProblems check_checkpoint(const std::string& dir, const TaskSpec* task, const std::string& key,
                               sweep::InputCheckContext& context);

// The train and dev splits of the task where task_data_dir() would find them (synthetic data,
// written on first use, passes).
InputProblems check_task_data(const TaskSpec& task, sweep::InputCheckContext& context);

// A job that reads a teacher of a task (prune, retrain): its task (known), its checkpoint
// (with a matching head) and the task's data.
InputProblems check_teacher_job(const Params& params, const std::string& kind,
                                sweep::InputCheckContext& context);

// A file the job reads.
InputProblems check_input_file(const std::string& path, const std::string& category,
                               const std::string& key, const std::string& hint = "");

}  // namespace kprune::jobs
