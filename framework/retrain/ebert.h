#pragma once
// EBERT (Liu et al., ACL Findings 2021) as retraining-baselines.md section 2 specifies it (the
// released code is authoritative): per layer, small predictors decide per input sequence which
// heads and FFN neurons run; backbone and predictors train jointly on the task loss plus a
// FLOPs/sparsity penalty. Nothing is removed physically; FLOPs are a dev-set average.
#include <torch/torch.h>

#include <map>
#include <memory>
#include <ostream>
#include <string>

#include "framework/model/encoder.h"
#include "framework/retrain/learning_curve.h"
#include "framework/retrain/retrain_data.h"
#include "framework/retrain/training_run.h"
#include "framework/util/params.h"

namespace kprune {

struct EbertOptions : TrainingRunOptions {
  double epochs = 3;
  double learning_rate = 3e-5;            // backbone: AdamW, linear decay to 0, no warmup
  double predictor_learning_rate = 0.02;  // predictors: AdamW, constant
  double loss_lambda = 4;                 // λ of the FLOPs/sparsity penalty
  int64_t batch_size = 32;
  double tau = 1;  // gate temperature
  int64_t predictor_hidden = 64;
  double bn_eps = 1e-12;
  bool layer0_masked_mean = true;      // CLEAN; REF quirk E1 averages padded positions too
  bool reference_flops_terms = false;  // REF: the penalty's predictor cost counts 12 heads
  // ADAPT: after training, one logit offset meets the target on average (a training sample);
  // the curve then ends with the calibrated model at the training time plus calibration's.
  bool calibrate = false;
};

EbertOptions ebert_options(const Params& params, uint64_t seed);

// Linear(d -> hidden) -> BatchNorm1d -> ReLU -> Linear(hidden -> units).
class GatePredictor : public torch::nn::Module {
 public:
  GatePredictor(int64_t input, int64_t hidden, int64_t units, double bn_eps);
  torch::Tensor forward(const torch::Tensor& x);  // [B, d] -> gate logits [B, units]

 private:
  torch::nn::Linear first_{nullptr}, second_{nullptr};
  torch::nn::BatchNorm1d norm_{nullptr};
};

// Gates from logits z [B, n]. Training: logistic noise g, s = sigmoid((z + g) / τ), forward value
// 1[s >= 0.5] with the gradient of s (straight-through). Eval: 1[z >= 0]. `noise` (training
// only, [B, n]) replaces the drawn noise, for tests.
torch::Tensor gate(const torch::Tensor& logits, bool training, double tau,
                   const torch::Tensor& noise = {});
// Logistic noise log(u + 1e-8) - log(1 - u + 1e-8), u ~ U(0, 1) from the global generator.
torch::Tensor logistic_noise(torch::IntArrayRef shape, const torch::TensorOptions& options);

// The encoder with a head predictor before every attention sublayer and a neuron predictor
// before every FFN sublayer. The predictors are registered as "heads_<l>" and "neurons_<l>".
class EbertModel : public torch::nn::Module {
 public:
  EbertModel(std::shared_ptr<EncoderModel> encoder, const EbertOptions& options, uint64_t seed);

  struct Output {
    ModelOutput model;
    torch::Tensor head_gates;    // [B, L, H]: 0/1 forward values
    torch::Tensor neuron_gates;  // [B, L, F]
  };
  Output forward(const Batch& batch);

  EncoderModel& encoder() { return *encoder_; }
  const EncoderModel& encoder() const { return *encoder_; }
  torch::OrderedDict<std::string, torch::Tensor> predictor_parameters() const;
  // Added to every gate logit (EBERT's calibration; 0 otherwise).
  void set_logit_offset(double offset) { logit_offset_ = offset; }
  double logit_offset() const { return logit_offset_; }

 private:
  std::shared_ptr<EncoderModel> encoder_;
  std::vector<std::shared_ptr<GatePredictor>> head_predictors_, neuron_predictors_;
  double tau_ = 1;
  bool layer0_masked_mean_ = true;
  double logit_offset_ = 0;
};

// The FLOPs terms of section 2.3 for a model of `config` at sequence length `seq_len`.
struct EbertFlops {
  double head = 0;       // f_head(ℓ) = 8 ℓ d d_h + 4 ℓ² d_h
  double neuron = 0;     // f_ffn(ℓ, 1) = 4 ℓ d
  double predictor = 0;  // P per layer: 2 (d h + h H') + 2 (d h + h d_f), h = predictor width
  double total = 0;      // F_total = L (H f_head + d_f f_ffn), the full backbone
};
// `reference`: H' = 12 as the released code; else the model's H.
EbertFlops ebert_flops(const EncoderConfig& config, double seq_len, int64_t predictor_hidden,
                       bool reference);

struct EbertPenalty {
  torch::Tensor flops;  // ((1 - F_dyn / F_total) - s)²
  torch::Tensor heads;  // (1/L) Σ_l (s - (1 - h̄_l / H))²
  torch::Tensor neurons;
  torch::Tensor total(double lambda) const { return lambda * (flops + 5 * heads + 5 * neurons); }
};
// The penalty for sparsity target s (= the FLOPs reduction ρ) from a batch's gates (their
// straight-through gradients flow), with the batch's padded length in `terms`.
EbertPenalty ebert_penalty(const EbertModel::Output& output, const EbertFlops& terms,
                           double sparsity);

// What the gated model computes on the dev set (eval gates).
struct EbertEvaluation {
  std::map<std::string, double> metrics;  // x100
  double flops = 0;                       // mean per-example FLOPs, predictors included (ℓ)
  double backbone_flops = 0;              // the same without the predictors
  double full_flops = 0;                  // the teacher's
  torch::Tensor head_keep;                // [L, H]: fraction of dev examples running each head
  torch::Tensor neuron_keep;              // [L, F]
  double flops_reduction() const { return 1.0 - flops / full_flops; }
};
EbertEvaluation evaluate_ebert(EbertModel& model, const RetrainData& data,
                               int64_t predictor_hidden);

struct EbertTraining {
  std::shared_ptr<EbertModel> model;  // in eval mode
  LearningCurve curve;
  EbertEvaluation final;
  double pruning_seconds = 0;  // training steps (+ calibration)
  double train_seconds = 0, eval_seconds = 0, io_seconds = 0, calibration_seconds = 0;
  int64_t steps = 0;
  bool finished = false;  // false: stopped by stop_after (rerun to continue) or max_wall_s
  bool stopped_early = false;
};

// Trains EBERT from `teacher` (copied) for the FLOPs reduction `target` (the penalty's
// sparsity), resumable through `dir` (created). Targets at or above what the gates can remove
// (every unit gated off: only the predictors' FLOPs remain) are a kprune::Error.
EbertTraining train_ebert(const EncoderModel& teacher, const RetrainData& data,
                          const EbertOptions& options, double target, const std::string& dir,
                          std::ostream& log);

}  // namespace kprune
