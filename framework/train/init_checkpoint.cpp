#include "framework/train/init_checkpoint.h"

#include "framework/model/checkpoint.h"
#include "framework/tasks/evaluate.h"

namespace kprune {

std::shared_ptr<EncoderModel> load_init_checkpoint(const std::string& dir, const TaskSpec& task,
                                                   uint64_t seed) {
  if (is_pretrained_encoder_checkpoint(dir)) {
    return load_encoder_checkpoint(dir, task.head_kind, task.num_labels, seed);
  }
  auto model = load_checkpoint(dir, torch::kCPU);
  check_head_matches_task(model->config(), task, dir);
  return model;
}

}  // namespace kprune
