#pragma once
// A teacher checkpoint with its task data, as the prune and retrain jobs load it: the model,
// the tokenized train and dev splits, ℓ and the teacher's dev metrics. A worker keeps it between
// the jobs of one teacher (WorkerContext::cached).
#include <torch/torch.h>

#include <memory>
#include <string>

#include "framework/model/encoder.h"
#include "framework/prune/task_pruning.h"
#include "framework/sweep/job.h"

namespace kprune::jobs {

struct TeacherData {
  std::shared_ptr<EncoderModel> model;
  std::string sha256;  // of model.safetensors
  TaskSplit train;
  TaskSplit dev;
  double seq_len = 0;  // ℓ
  TaskEvaluation eval;
};

// Loads the checkpoint (its head must match the task), tokenizes both splits and evaluates the
// teacher on dev.
std::shared_ptr<TeacherData> load_teacher_data(const std::string& checkpoint, const TaskSpec& task,
                                               const std::string& data_dir, torch::Device device);

// The worker's copy for `spec`'s cache key, loaded on a miss (`loaded` says which).
std::shared_ptr<TeacherData> cached_teacher_data(const sweep::JobSpec& spec,
                                                 sweep::WorkerContext& context,
                                                 const std::string& checkpoint,
                                                 const TaskSpec& task, torch::Device device,
                                                 bool& loaded);

}  // namespace kprune::jobs
