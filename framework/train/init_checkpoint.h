#pragma once
// The model a fine-tuning run starts from when given a checkpoint.
#include <cstdint>
#include <memory>
#include <string>

#include "framework/model/encoder.h"
#include "framework/tasks/task.h"

namespace kprune {

// A pretrained encoder (`kprune pretrain`, HF XForMaskedLM / XForPreTraining / XModel) gets a
// fresh head for `task` drawn from `seed`, its MLM-head tensors dropped; any other checkpoint
// is a teacher whose head must already fit the task (an error names both otherwise).
// Float32, on the CPU.
std::shared_ptr<EncoderModel> load_init_checkpoint(const std::string& dir, const TaskSpec& task,
                                                   uint64_t seed);

}  // namespace kprune
