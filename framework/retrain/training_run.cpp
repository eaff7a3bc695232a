#include "framework/retrain/training_run.h"

#include "framework/util/error.h"

namespace kprune {

std::vector<PrunerParam> common_training_params() {
  return {
      {"evals_per_epoch", "8", "learning-curve checkpoints per epoch (and stage)"},
      {"max_wall_s", "0", "> 0: stop training at this pruning time (censored)"},
      {"max_train_examples", "0", "> 0: train on the first N examples only"},
      {"save_every", "200", "steps between saved states (resume)"},
      {"stop_after", "0", "> 0: stop after this many steps in all; rerun to continue"},
      {"precision", "fp32", "fp32, or bf16 mixed precision for the forward passes"},
  };
}

void read_training_run_options(const Params& params, uint64_t seed, const char* method,
                               TrainingRunOptions& options) {
  options.evals_per_epoch = params.get_int("evals_per_epoch", options.evals_per_epoch);
  options.max_wall_s = params.get_double("max_wall_s", options.max_wall_s);
  options.save_every = params.get_int("save_every", options.save_every);
  options.stop_after = params.get_int("stop_after", options.stop_after);
  options.precision = parse_precision(params.get_string("precision", "fp32"));
  options.seed = seed;
  if (options.evals_per_epoch < 1 || options.save_every < 1) {
    fail("{}: evals_per_epoch and save_every must be positive (got {} and {})", method,
         options.evals_per_epoch, options.save_every);
  }
}

}  // namespace kprune
