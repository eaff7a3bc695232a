#include "framework/prune/global_selection.h"

#include <vector>

#include "framework/model/flops.h"
#include "framework/prune/masks.h"
#include "framework/prune/selection.h"
#include "framework/util/error.h"

namespace kprune {

PruneReport prune_by_global_selection(EncoderModel& model, const PruneInput& input,
                                      const torch::Tensor& head_scores,
                                      const torch::Tensor& neuron_scores) {
  const EncoderConfig original = model.config();
  if (original.is_pruned()) fail("global selection: the model must be unpruned");
  const double head_cost = head_flops(original, input.flops_seq_len) / 1e9;
  const double neuron_cost = neuron_flops(original, input.flops_seq_len) / 1e9;
  const torch::Tensor heads = head_scores.to(torch::kCPU, torch::kFloat64).contiguous();
  const torch::Tensor neurons = neuron_scores.to(torch::kCPU, torch::kFloat64).contiguous();

  // Candidates: every head, then every neuron, scores per GFLOP.
  std::vector<double> scores, costs;
  for (int64_t i = 0; i < heads.numel(); ++i) {
    scores.push_back(heads.data_ptr<double>()[i] / head_cost);
    costs.push_back(head_cost);
  }
  for (int64_t i = 0; i < neurons.numel(); ++i) {
    scores.push_back(neurons.data_ptr<double>()[i] / neuron_cost);
    costs.push_back(neuron_cost);
  }
  PruneReport report;
  report.flops_before = full_model_flops(original, input.flops_seq_len) / 1e9;
  report.flops_budget = (1 - input.flops_reduction) * report.flops_before;
  const std::vector<bool> keep =
      select_units(scores, costs, report.flops_budget, SelectionMode::clean);

  torch::Tensor head_mask = torch::zeros(heads.sizes(), torch::kFloat32);
  torch::Tensor neuron_mask = torch::zeros(neurons.sizes(), torch::kFloat32);
  for (int64_t i = 0; i < heads.numel(); ++i) head_mask.view(-1)[i] = keep[i] ? 1.0 : 0.0;
  for (int64_t i = 0; i < neurons.numel(); ++i) {
    neuron_mask.view(-1)[i] = keep[heads.numel() + i] ? 1.0 : 0.0;
  }
  apply_unit_masks(model, head_mask, neuron_mask, EmptySublayer::drop_bias);

  report.flops_after = model_flops(model.config(), input.flops_seq_len) / 1e9;
  for (int64_t l = 0; l < original.num_layers; ++l) {
    report.head_masks.emplace_back(head_mask[l].data_ptr<float>(),
                                   head_mask[l].data_ptr<float>() + head_mask.size(1));
    report.neuron_masks.emplace_back(neuron_mask[l].data_ptr<float>(),
                                     neuron_mask[l].data_ptr<float>() + neuron_mask.size(1));
  }
  for (int64_t s = 0; s < model.num_sublayers(); ++s) {
    SublayerReport sub;
    sub.kept = model.sublayer(s).num_units();
    sub.total = s % 2 == 0 ? original.num_heads : original.intermediate_size;
    report.sublayers.push_back(sub);
  }
  return report;
}

}  // namespace kprune
