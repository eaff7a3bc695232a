#pragma once
// The options every retraining method's training takes, beside its own: learning-curve
// checkpoints, the pruning-time cap, saved states and precision (common_training_params()).
#include <cstdint>
#include <vector>

#include "framework/model/precision.h"
#include "framework/prune/pruner.h"
#include "framework/util/params.h"

namespace kprune {

struct TrainingRunOptions {
  int64_t evals_per_epoch = 8;  // learning-curve checkpoints per epoch (and stage)
  double max_wall_s = 0;        // > 0: stop when the pruning time reaches it (censored)
  int64_t save_every = 200;     // steps between saved states
  int64_t stop_after = 0;       // > 0: return after this many steps in all (a run in parts)
  uint64_t seed = 42;
  Precision precision = Precision::fp32;
};

// The parameters behind TrainingRunOptions, plus max_train_examples (read with the data).
std::vector<PrunerParam> common_training_params();

// Reads the keys of common_training_params() into `options` (absent keys keep its values),
// checked; `method` names the caller in errors.
void read_training_run_options(const Params& params, uint64_t seed, const char* method,
                               TrainingRunOptions& options);

}  // namespace kprune
