#pragma once
// K-prune (algorithms.md section 4): iterative knowledge measurement, KPMS and KPWT, sublayer by
// sublayer, bottom-up. Unlike the reference it never re-runs the prefix: the input of sublayer s
// is cached per batch (the student stream) and advanced through the pruned sublayer s; the
// teacher's pre-LN sums come from a frozen copy advanced the same way (the teacher stream), so
// memory holds two hidden states per sample token instead of the reference's 2L. Only mask
// gradients are taken (autograd::grad on the masks; parameters do not require grad), and the
// KPWT normal equations are accumulated batch by batch.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "framework/model/batch.h"
#include "framework/model/encoder.h"
#include "framework/prune/pruner.h"
#include "framework/prune/selection.h"

namespace kprune {

// How the representational knowledge of a sublayer is scaled before λ_rep (kprune.cpp
// per_token): the paper's per-token mean, or also relative to the LayerNorm input it feeds.
enum class KnowledgeWeighting { paper, normalized };
KnowledgeWeighting parse_knowledge_weighting(const std::string& text);
std::string to_string(KnowledgeWeighting weighting);

struct KpruneOptions {
  double flops_reduction = 0;  // ρ, fraction of FLOPs removed
  double flops_seq_len = 0;    // ℓ of algorithms.md 2.1
  double lam_pred = 1;
  double lam_rep = 2.5e-4;
  double mu = 64;
  double temperature = 2;  // T
  bool tuning = true;      // KPWT
  bool oneshot = false;    // measure once at s = 0, one global selection, then KPWT bottom-up
  SelectionMode mode = SelectionMode::clean;
  KnowledgeWeighting weighting = KnowledgeWeighting::paper;
  HeadKind head_kind = HeadKind::classification;
  // Padded positions per forward+backward of the measurement: bounds its autograd graph; the
  // result does not depend on it (a batch's gradient is the sum of its chunks').
  int64_t chunk_tokens = 1024;

  static KpruneOptions from_params(const Params& params);
};

// What one iteration decided (for tests and the report's details).
struct KpruneStep {
  int64_t sublayer = 0;
  torch::Tensor head_scores;    // [L, H] as computed at this step, rows of finished layers 0
  torch::Tensor neuron_scores;  // [L, I]
  double budget_in = 0;         // remaining budget handed to the search (GFLOPs)
  std::vector<bool> keep;       // over the target's units
  std::string tuning;
};

// The predictive loss of algorithms.md 4.3: T² · KL(p ‖ softmax(z/T)) with "batchmean"
// reduction (sum over rows and classes / rows), teacher distribution first. logits z and
// teacher_probs p: [B, C] (classes, or positions for SQuAD).
torch::Tensor distillation_kl(const torch::Tensor& logits, const torch::Tensor& teacher_probs,
                              double temperature);

// Prunes `model` (unpruned, any dtype/device) in place; `steps` receives one entry per
// iteration when given.
PruneReport run_kprune(EncoderModel& model, const std::vector<Batch>& batches,
                       const KpruneOptions& options, std::vector<KpruneStep>* steps = nullptr);

// Registry entry ("kprune").
PrunerInfo kprune_pruner_info();

}  // namespace kprune
