#pragma once
// The Pruner interface and registry. A pruner takes a fine-tuned model, the sample set and a
// FLOPs reduction ratio, prunes the model in place (physically smaller tensors) and reports
// what it did. Adding a pruner is one file plus one registration line (pruner_registry.cpp).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "framework/model/batch.h"
#include "framework/model/config.h"
#include "framework/model/encoder.h"
#include "framework/util/params.h"

namespace kprune {

struct PruneInput {
  // The sample set, already padded per batch, used as given and in order (algorithms.md 3).
  const std::vector<Batch>* sample_batches = nullptr;
  double flops_reduction = 0;  // fraction of FLOPs removed, in [0, 1)
  double flops_seq_len = 0;    // ℓ of algorithms.md 2.1 (task dev average; 170 for SQuAD)
  HeadKind head_kind = HeadKind::classification;
  Params params;               // pruner parameters (checked against the pruner's list)
  torch::Device device = torch::kCPU;
};

struct SublayerReport {
  int64_t kept = 0;            // units kept in this sublayer
  int64_t total = 0;           // units before pruning
  double measure_seconds = 0;  // knowledge / importance measurement attributed to it
  double search_seconds = 0;
  double tune_seconds = 0;
  std::string tuning;          // "applied", "skipped: <why>", "" when not applicable
};

struct PruneReport {
  std::string pruner;                            // registered name
  std::string label;                             // display label, e.g. "KCM-approx"
  std::vector<std::vector<float>> head_masks;    // [L][H]: 1 kept, 0 pruned
  std::vector<std::vector<float>> neuron_masks;  // [L][I]
  double flops_before = 0;                       // GFLOPs (algorithms.md 2.1)
  double flops_after = 0;
  double flops_budget = 0;                       // (1 - ρ) · flops_before
  std::vector<SublayerReport> sublayers;         // [2L]
  double wall_seconds = 0;
  double peak_rss_mb = 0;
  std::vector<std::string> fallbacks;            // solver fallbacks taken, one line each
  nlohmann::json details = nlohmann::json::object();  // pruner-specific (scores, steps, ...)

  nlohmann::json to_json() const;
};

struct PrunerParam {
  std::string name;
  std::string default_value;  // canonical text
  std::string meaning;
};

class Pruner {
 public:
  virtual ~Pruner() = default;
  // Prunes `model` in place (it ends physically smaller, real-valued masks folded into the
  // weights) and reports. `input.params` has been checked against params().
  virtual PruneReport prune(EncoderModel& model, const PruneInput& input) = 0;
};

struct PrunerInfo {
  std::string name;
  std::string description;
  std::vector<PrunerParam> params;
  bool needs_labels = false;  // the sample set must carry labels / start+end positions
  std::function<std::unique_ptr<Pruner>()> create;
};

// Registration order is listing order. Unknown name -> kprune::Error listing the known ones.
const std::vector<PrunerInfo>& pruner_registry();
const PrunerInfo& find_pruner(const std::string& name);

// Validates the common input (ratio in [0, 1), non-empty sample set, the model's head kind
// matching the task's, known parameter names, labels present when needed), fills defaults
// into input.params, runs the pruner, times it, and records peak memory.
PruneReport run_pruner(const std::string& name, EncoderModel& model, PruneInput input);

}  // namespace kprune
