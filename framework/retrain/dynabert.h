#pragma once
// DynaBERT (Hou et al., NeurIPS 2020) as retraining-baselines.md section 1 specifies it:
// importance and rewiring, stage 1 (width-adaptive distillation from the frozen teacher),
// stage 2 (width- and depth-adaptive, the stage-1 result as teacher), and the choice of the
// sub-network that meets a FLOPs target. One training serves every target of both variants.
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "framework/model/encoder.h"
#include "framework/model/subnetwork.h"
#include "framework/retrain/distillation.h"
#include "framework/retrain/importance.h"
#include "framework/retrain/learning_curve.h"
#include "framework/retrain/retrain_data.h"
#include "framework/retrain/training_run.h"
#include "framework/util/params.h"

namespace kprune {

struct DynabertOptions : TrainingRunOptions {
  std::vector<Multiplier> widths;  // trained widths, descending (each stage)
  std::vector<Multiplier> depths;  // trained depths of stage 2, descending
  double epochs_stage1 = 3, epochs_stage2 = 3;
  double learning_rate = 2e-5;  // AdamW, no warmup, linear decay, no weight decay
  int64_t batch_size = 32;
  double lambda1_stage1 = 1.0, lambda2_stage1 = 0.1;  // logit / hidden-state terms
  double lambda1_stage2 = 1.0, lambda2_stage2 = 1.0;
  bool stage1_distill = true;     // "always" (CLEAN); false = "ref" (D3: task loss without DA)
  bool teacher_matched = false;   // stage-2 teacher at the student's width (CLEAN); REF: full (D4)
  bool importance_on_dev = true;  // REF: the dev set; false: a training sample of dev's size
  ImportanceGradient importance_gradient = ImportanceGradient::cumulative;
  int64_t importance_batch = 8;
  RegressionLogitLoss regression_logits = RegressionLogitLoss::none;  // D2
  bool select_on_dev = false;  // D5: each stage keeps the weights with the best dev sum
};

// Options from canonical parameters (every key of dynabert_params() but the per-target
// `variant`; absent keys keep the defaults), checked: widths and depths are comma-separated
// multipliers in (0, 1].
DynabertOptions dynabert_options(const Params& params, uint64_t seed);

// One optimizer step's passes (retraining-baselines.md 1.5-1.6): stage 1, every width at full
// depth, distilled from `teacher` (or, stage1_distill = ref, the task loss with `batch`'s
// labels); stage 2, every depth and width, distilled from `teacher` (the stage-1 model) at full
// width or the student's width. Each sub-network's backward pass adds to the student's gradients
// (the caller zeroes them before and steps after); returns the summed loss.
double dynabert_step(int stage, EncoderModel& student, const EncoderModel& teacher,
                     const Batch& batch, HeadKind kind, const DynabertOptions& options);

// "w=0.5 d=1": how a sub-network is named in learning curves and records.
std::string subnetwork_key(Multiplier width, Multiplier depth);

struct DynabertTraining {
  std::string dir;        // holds model/ (the final DynaBERT) and stage1/ (DynaBERT_W)
  bool finished = false;  // false: stopped by stop_after; rerun to continue
  nlohmann::json record;  // dynabert.json: importance, rewiring, times, curves per sub-network
};

// Trains DynaBERT from `teacher` into `dir` (created): importance and rewiring, stage 1, stage 2.
// Resumable: rerun with the same arguments, it continues from the last saved state and ends
// with the weights of an uninterrupted run; a finished directory is read back at once.
// Progress and the checkpoints' dev metrics go to `log`.
DynabertTraining train_dynabert(const EncoderModel& teacher, const RetrainData& data,
                                const DynabertOptions& options, const std::string& dir,
                                std::ostream& log);

enum class DynabertVariant {
  width,  // "w": sub-networks (m_w, 1)
  depth,  // "d": sub-networks (m_w, m_d) with m_d < 1
};
DynabertVariant parse_dynabert_variant(const std::string& text);

struct DynabertChoice {
  Multiplier width, depth;
  Subnetwork subnetwork;
  double flops_reduction = 0;  // achieved ρ, with ℓ
};

// Among the trained multipliers of `variant`, the sub-network with the smallest FLOPs reduction
// that is at least `target` (never less compressed than asked); ties go to the larger depth.
// No candidate reaches the target -> kprune::Error naming the nearest one.
DynabertChoice choose_subnetwork(const EncoderConfig& config, const DynabertOptions& options,
                                 DynabertVariant variant, double target, double seq_len);

}  // namespace kprune
