#pragma once
// Masked-language-model pretraining of an encoder and its MLM head on packed sequences
// (BERT recipe without next-sentence prediction: AdamW, linear warmup and decay, gradient
// clipping), resumable: a run that is stopped and started again ends with the weights an
// uninterrupted run ends with.
#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "framework/model/encoder.h"
#include "framework/model/mlm_head.h"
#include "framework/model/precision.h"
#include "framework/train/mlm_masking.h"

namespace kprune {

struct PretrainOptions {
  int64_t batch_size = 32;
  int64_t max_steps = 1000;
  double learning_rate = 5e-4;  // peak, after warmup
  double warmup_ratio = 0.06;
  double weight_decay = 0.01;
  double max_grad_norm = 1.0;  // <= 0 disables clipping
  double adam_epsilon = 1e-6;  // BERT's
  int64_t save_every = 200;    // steps between saved states (and at the end); 0: at the end only
  int64_t stop_after = 0;      // > 0: return after this many steps in total (a run in parts)
  uint64_t seed = 0;
  torch::Device device = torch::kCPU;
  Precision precision = Precision::fp32;  // of the forward and backward passes
};

struct PretrainResult {
  int64_t resumed_from = 0;  // the step the run started at (0: fresh)
  int64_t steps = 0;         // the step it reached
  bool finished = false;     // steps == max_steps
  double train_seconds = 0;  // this run's wall time
  double tokens_per_second = 0;
  double final_loss = 0;  // moving average of the MLM loss at the end (over all runs)
};

// Mean cross-entropy over the selected positions (labels >= 0). ids/labels [B, T] int64.
torch::Tensor mlm_loss(const EncoderModel& encoder, const MlmHead& head,
                       const torch::Tensor& input_ids, const torch::Tensor& labels);

// Trains on `sequences` [N, T] (pack_sequences). Batch s holds rows of a seeded permutation of
// epoch s / (N / batch_size); its corruption and dropout are seeded by (seed, s), so resuming
// needs only the saved weights, optimizer state and step. `state_path` (a file) is written
// atomically every save_every steps; when it exists at the start the run resumes from it,
// and `fingerprint` (the recipe and data) must equal the one saved there. Errors: fewer
// sequences than one batch, a state from another fingerprint, a non-finite loss.
PretrainResult pretrain(EncoderModel& encoder, MlmHead& head, const torch::Tensor& sequences,
                        const MlmMasking& masking, const PretrainOptions& options,
                        const std::string& state_path, const std::string& fingerprint);

}  // namespace kprune
