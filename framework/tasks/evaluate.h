#pragma once
// Evaluation of an encoder on tokenized features of a sentence(-pair) task.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "framework/model/encoder.h"
#include "framework/tasks/features.h"
#include "framework/tasks/task.h"

namespace kprune {

// Puts a module in eval mode and restores its training flag on scope exit.
class EvalModeGuard {
 public:
  explicit EvalModeGuard(torch::nn::Module& module)
      : module_(module), was_training_(module.is_training()) {
    module_.eval();
  }
  ~EvalModeGuard() { module_.train(was_training_); }
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  torch::nn::Module& module_;
  bool was_training_;
};

struct EvalResult {
  std::map<std::string, double> metrics;  // empty when the features are unlabelled (test split)
  std::vector<double> predictions;        // per feature, in input order: class index or score
  std::vector<double> golds;              // the features' labels (NaN if unlabelled)
  double seconds = 0;                     // wall time of the forward passes
  int64_t tokens = 0;                     // real (unpadded) tokens evaluated
};

// Throws kprune::Error (naming `origin`, e.g. the checkpoint dir) unless the model's head
// kind and number of labels are those of the task.
void check_head_matches_task(const EncoderConfig& config, const TaskSpec& task,
                             const std::string& origin);

// Runs the model (which must already be on `device`) in eval mode without gradients over
// batches of `batch_size` padded to their longest member; features are batched in order of
// length for speed (padding does not change outputs), results come back in input order. The
// model's training flag is restored afterwards. Prediction: argmax of the logits, or the single
// logit for regression.
EvalResult evaluate(EncoderModel& model, const TaskSpec& task, const std::vector<Feature>& features,
                    int64_t batch_size = 128, torch::Device device = torch::kCPU);

// The forward pass of one batch (already on the device), e.g. a sub-network or a gated model.
using BatchForward = std::function<ModelOutput(const Batch&)>;

// evaluate() through `forward`, which must put its model in eval mode itself; the batches and
// metrics are evaluate()'s.
EvalResult evaluate_forward(const BatchForward& forward, const TaskSpec& task,
                            const std::vector<Feature>& features, int64_t batch_size = 128,
                            torch::Device device = torch::kCPU);

}  // namespace kprune
