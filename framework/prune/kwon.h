#pragma once
// Kwon et al. 2022, "A Fast Post-Training Pruning Framework for Transformers" (algorithms.md 5):
// Fisher-based mask search under a MAC constraint, per-layer mask rearrangement, and layer-wise
// least-squares mask tuning. The steps are public so that the oracle tests can check each one
// against the official implementation (fixtures/kwon-oracle). REF reproduces the official code
// and its quirks (5.6); CLEAN enforces the MAC budget in the search, builds the FFN target from
// the teacher's masked FFN (REF: all neurons, the official hook order) and solves the damped
// system in closed form in float64.
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "framework/model/batch.h"
#include "framework/model/config.h"
#include "framework/model/encoder.h"
#include "framework/prune/lsmr.h"
#include "framework/prune/pruner.h"

namespace kprune {

enum class KwonMode { ref, clean };
// "ref" | "clean"; anything else throws naming both.
KwonMode parse_kwon_mode(const std::string& text);

// One mask value per head and per neuron; 0/1 after search, real-valued after tuning.
struct KwonMasks {
  torch::Tensor heads;    // [L, H] float32
  torch::Tensor neurons;  // [L, I] float32

  // Per-sublayer masks for ForwardOptions::unit_masks (s = 2l: heads[l], 2l+1: neurons[l]),
  // in `dtype` on `device`.
  std::vector<torch::Tensor> unit_masks(torch::ScalarType dtype, torch::Device device) const;
  std::vector<int64_t> heads_per_layer() const;  // nonzero entries per layer
  std::vector<int64_t> neurons_per_layer() const;
};

// 5.1: gradients of each batch's mean supervised loss w.r.t. all-ones masks.
struct FisherGrads {
  torch::Tensor heads;    // [B, L, H] float32
  torch::Tensor neurons;  // [B, L, I] float32
  // Σ_b grad² in float32: [L, H] / [L, I].
  torch::Tensor head_importance() const;
  torch::Tensor neuron_importance() const;
};
// `model` must be unpruned; batches carry the targets of `head_kind`.
FisherGrads collect_mask_grads(const EncoderModel& model, const std::vector<Batch>& batches,
                               HeadKind head_kind);

// MAC costs of algorithms.md 2.2 for an unpruned model of `config` at length `seq_len`.
struct KwonMacs {
  double per_head = 0;
  double per_neuron = 0;
  double original = 0;  // every head and neuron
};
KwonMacs kwon_macs(const EncoderConfig& config, double seq_len);

// 5.2: keeps the globally top heads/neurons maximising the importance sum under
// kept_fraction · original MACs. REF: n_h = 1 … L·H with the neuron count clipped at 0, so a
// tight budget ends over budget (5.6). CLEAN: only (n_h, n_f) that fit the budget, n_h from 0.
KwonMasks search_masks(const torch::Tensor& head_importance, const torch::Tensor& neuron_importance,
                       const KwonMacs& macs, double kept_fraction, KwonMode mode);

// 5.3: per layer (row of `mask` [L, n]), the greedy swap with per-batch gradients
// `grads` [B, L, n]; the count of pruned units per layer is unchanged.
torch::Tensor rearrange_mask(const torch::Tensor& mask, const torch::Tensor& grads);

// One least-squares solve of mask tuning (5.4), recorded for reports and oracle tests.
struct KwonTuningStep {
  int64_t layer = 0;
  SublayerKind kind = SublayerKind::attention;
  std::vector<int64_t> units;  // kept heads / neurons
  bool cls_only = false;
  int64_t num_rows = 0;
  torch::Tensor gram;      // [k, k] float32 (MHA: k = heads + 1 for the constant column)
  torch::Tensor rhs;       // [k]
  LsmrResult solve;        // REF only (CLEAN: closed form; iterations 0)
  torch::Tensor solution;  // [k] = 1 + δ
  torch::Tensor scale;     // kept units' factors (MHA: the constant's coefficient dropped)
  std::string status;      // "applied" | "aborted: <why>"
};

struct KwonTuning {
  KwonMasks masks;  // the student's masks with tuned values
  std::vector<KwonTuningStep> steps;
  // Per sublayer s (2L entries): "applied", "skipped: <why>", "aborted: <why>", "not reached".
  std::vector<std::string> status;
  std::optional<int64_t> stopped_at;  // sublayer where tuning stopped, if it did
};

// 5.4: layer by layer, MHA then FFN, on inputs propagated separately through the
// teacher-masked and the (already tuned) student-masked model. `classification`: the last
// layer's FFN uses only the [CLS] rows.
// `tune_attention` false: only the FFN sublayers are tuned (KCM-approx, algorithms.md 6).
KwonTuning tune_masks(const EncoderModel& model, const std::vector<Batch>& batches,
                      const KwonMasks& teacher, const KwonMasks& student, bool classification,
                      KwonMode mode, bool tune_attention = true);

// The whole pipeline on an unpruned model; the model is left unchanged.
struct KwonOptions {
  KwonMode mode = KwonMode::clean;
  bool rearrange = true;
  bool tune = true;
};
struct KwonResult {
  FisherGrads grads;
  KwonMacs macs;
  double kept_fraction = 0;          // round(1 − removed, 12), what the official code takes
  double teacher_kept_fraction = 0;  // √kept
  KwonMasks teacher, search, rearranged;
  std::optional<KwonTuning> tuning;
  KwonMasks final_masks;
  double fisher_seconds = 0, search_seconds = 0, rearrange_seconds = 0, tune_seconds = 0;
};
KwonResult run_kwon(const EncoderModel& model, const std::vector<Batch>& batches,
                    HeadKind head_kind, double flops_reduction, double seq_len,
                    const KwonOptions& options);

// The report's masks of a pruner with real-valued masks: head_masks/neuron_masks say which
// units are kept (0/1, as for every pruner); details["tuned"] holds the values that were
// folded into the weights.
void report_masks(const KwonMasks& masks, PruneReport& report);

// Registry entries (pruner_registry.cpp): "kwon" (search, rearrangement, tuning),
// "kwon-notune" (algorithms.md 7.4: no tuning) and "fisher" (7.3: search only). Each takes
// `mode` (ref | clean); the pruned model has the final masks applied physically, tuned values
// folded into the weights and fully masked sublayers keeping their bias (LN(X + b)).
PrunerInfo kwon_pruner_info();
PrunerInfo kwon_notune_pruner_info();
PrunerInfo fisher_pruner_info();

}  // namespace kprune
