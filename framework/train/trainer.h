#pragma once
// The one training loop of kprune: fine-tuning, MLM pretraining and the retraining-based
// baselines (DynaBERT, EBERT) all run through it. Per step: the RNG seeded, batch s of a seeded
// per-epoch permutation, each parameter group's learning rate from its schedule, the caller's
// forward/backward pass(es) (gradients may accumulate over several), global-norm clipping and
// one AdamW step. Checkpoints (dev evaluations) and saved states are timed apart from the
// training steps. A run with a state path saves its state atomically and, when started again,
// resumes there and ends with the weights of an uninterrupted run.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "framework/train/optimizer.h"

namespace kprune {

// Linear warmup from 0 to 1 over `warmup_steps`, then linear decay to 0 at `total_steps`.
double linear_schedule(int64_t step, int64_t warmup_steps, int64_t total_steps);

// A permutation of [0, n): Fisher-Yates with IndexSampler draws, so that it is the same on
// every standard library.
std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed);

// Independent seeds per (seed, step, stream): the trainer seeds the global RNG (dropout, noise)
// with stream 2; callers draw their own per-step streams (e.g. MLM masking, stream 1).
uint64_t step_seed(uint64_t seed, int64_t step, uint64_t stream);

enum class LearningRateSchedule {
  linear,    // warmup over warmup_ratio of the steps, then linear decay to 0 at the last step
  constant,  // the base rate throughout
};

// Parameters trained with one AdamW setting and schedule. Weight decay skips parameters named
// "*bias*" or "*norm*" (make_adamw's rule); parameters that need no gradient are left out.
struct ParameterGroup {
  torch::OrderedDict<std::string, torch::Tensor> parameters;
  AdamWSettings adamw;
  LearningRateSchedule schedule = LearningRateSchedule::linear;
  double warmup_ratio = 0;
};

enum class StepSeeding {
  per_step,  // the global RNG is seeded from (seed, step) before every step: resumable
  once,      // seeded with `seed` at the start (how fine-tuning has always drawn its dropout)
};

struct TrainerOptions {
  std::string name = "train";  // progress label, messages
  int64_t examples = 0;        // batches are drawn from the indices [0, examples)
  // Step s uses positions [(s mod E) b, (s mod E) b + b) of permutation floor(s / E) (seeded by
  // seed * 1000003 + epoch), E = floor(examples / b): an incomplete last batch is dropped.
  int64_t batch_size = 32;
  int64_t max_steps = 0;
  double max_grad_norm = 1.0;  // <= 0: no clipping
  uint64_t seed = 0;
  StepSeeding seeding = StepSeeding::per_step;
  int64_t checkpoint_every = 0;  // steps between checkpoint callbacks; 0: only after the last
  int64_t save_every = 0;        // steps between saved states (and after the last); 0: the last
  int64_t stop_after = 0;        // > 0: return after this many steps in all (a run in parts)
  std::string state_path;        // empty: nothing is saved or resumed
  std::string fingerprint;       // the recipe and data; a saved state must carry the same
  torch::Device device = torch::kCPU;
};

// Cumulative seconds of a training (over every run of a resumed one).
struct TrainingTimes {
  double train = 0;       // the steps: forward, backward, clipping, optimizer
  double checkpoint = 0;  // checkpoint callbacks (dev evaluations)
  double io = 0;          // saving states
};

struct StepOutcome {
  double loss = 0;     // shown in the progress line and averaged; must be finite
  int64_t tokens = 0;  // for the throughput
};

struct TrainingCallbacks {
  // Forward and backward pass(es) over the examples `members` at `step`. Required.
  std::function<StepOutcome(const std::vector<int64_t>& members, int64_t step)> step;
  // After every checkpoint_every steps and after the last; its time is not training time.
  std::function<void(int64_t step, const TrainingTimes& times)> checkpoint;
  // The caller's own progress (learning curves, ...) saved with the state, and given back when
  // a run resumes from one.
  std::function<std::string()> save_extra;
  std::function<void(const std::string&)> load_extra;
  // Checked after every step: true ends the training there (a time budget), after a last
  // checkpoint and saved state.
  std::function<bool(const TrainingTimes& times)> stop_early;
};

struct TrainerResult {
  int64_t resumed_from = 0;    // the step this run started at (0: fresh)
  int64_t steps = 0;           // the step it reached
  bool finished = false;       // steps == max_steps
  bool stopped_early = false;  // by stop_early
  TrainingTimes times;
  double final_loss = 0;         // moving average of the loss (over all runs)
  double tokens_per_second = 0;  // this run's training steps
};

// Trains the parameter groups of `modules` (named as in the saved state) with one AdamW.
// The modules are in train mode during the run and in eval mode after it. Errors: no examples
// for one batch, a state from another fingerprint, a non-finite loss.
TrainerResult run_training(const std::vector<std::pair<std::string, torch::nn::Module*>>& modules,
                           const std::vector<ParameterGroup>& groups, const TrainerOptions& options,
                           const TrainingCallbacks& callbacks);

}  // namespace kprune
