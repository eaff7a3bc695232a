#include "framework/retrain/importance.h"

#include <algorithm>
#include <numeric>

#include "framework/model/losses.h"
#include "framework/tasks/evaluate.h"
#include "framework/util/error.h"

namespace kprune {

ImportanceGradient parse_importance_gradient(const std::string& text) {
  if (text == "cumulative") return ImportanceGradient::cumulative;
  if (text == "per_batch") return ImportanceGradient::per_batch;
  fail("importance_grad '{}': expected cumulative (REF) or per_batch (CLEAN)", text);
}

std::string importance_gradient_name(ImportanceGradient gradient) {
  return gradient == ImportanceGradient::cumulative ? "cumulative" : "per_batch";
}

UnitImportance unit_importance(EncoderModel& model, const std::vector<Batch>& batches,
                               HeadKind head_kind, ImportanceGradient gradient) {
  const EncoderConfig& config = model.config();
  if (config.is_pruned()) fail("DynaBERT importance: the model is already pruned");
  if (batches.empty()) fail("DynaBERT importance: no batches");
  const int64_t layers = config.num_layers;
  const auto options = torch::TensorOptions().dtype(model.dtype()).device(model.device());
  // Per sublayer: the head mask (MHA) or activation mask (FFN), and the FFN pre-activation mask.
  std::vector<torch::Tensor> unit_masks, pre_masks, leaves;
  for (int64_t s = 0; s < model.num_sublayers(); ++s) {
    unit_masks.push_back(torch::ones({model.sublayer(s).num_units()}, options).requires_grad_());
    leaves.push_back(unit_masks.back());
    if (s % 2 == 1) {
      pre_masks.push_back(torch::ones({model.sublayer(s).num_units()}, options).requires_grad_());
      leaves.push_back(pre_masks.back());
    } else {
      pre_masks.emplace_back();
    }
  }
  ForwardOptions forward;
  forward.unit_masks = &unit_masks;
  forward.pre_activation_masks = &pre_masks;

  EvalModeGuard eval_mode(model);
  std::vector<torch::Tensor> sums, importance;  // per leaf: running gradient, importance
  for (const torch::Tensor& leaf : leaves) {
    sums.push_back(torch::zeros({leaf.numel()}, torch::kFloat64));
    importance.push_back(torch::zeros({leaf.numel()}, torch::kFloat64));
  }
  for (const Batch& cpu_batch : batches) {
    const Batch batch = cpu_batch.to(model.device());
    const torch::Tensor loss = supervised_loss(model.forward(batch, forward), batch, head_kind);
    const std::vector<torch::Tensor> grads = torch::autograd::grad({loss}, leaves);
    for (size_t i = 0; i < leaves.size(); ++i) {
      const torch::Tensor g = grads[i].to(torch::kCPU, torch::kFloat64);
      if (gradient == ImportanceGradient::cumulative) {
        sums[i] += g;
        importance[i] += sums[i].abs();
      } else {
        importance[i] += g.abs();
      }
    }
  }
  UnitImportance out;
  std::vector<torch::Tensor> heads, neurons;
  size_t leaf = 0;
  for (int64_t layer = 0; layer < layers; ++layer) {
    heads.push_back(importance[leaf++]);
    torch::Tensor output_side = importance[leaf++];
    neurons.push_back(importance[leaf++] + output_side);
  }
  out.heads = torch::stack(heads);
  out.neurons = torch::stack(neurons);
  return out;
}

std::vector<std::vector<int64_t>> importance_order(const torch::Tensor& importance) {
  const torch::Tensor values = importance.to(torch::kCPU, torch::kFloat64).contiguous();
  std::vector<std::vector<int64_t>> orders;
  for (int64_t row = 0; row < values.size(0); ++row) {
    const double* data = values[row].data_ptr<double>();
    std::vector<int64_t> order(static_cast<size_t>(values.size(1)));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return data[a] > data[b]; });
    orders.push_back(std::move(order));
  }
  return orders;
}

Rewiring rewire(EncoderModel& model, const UnitImportance& importance) {
  const int64_t layers = model.config().num_layers;
  if (importance.heads.size(0) != layers || importance.neurons.size(0) != layers) {
    fail("rewire: importance for {} layers, the model has {}", importance.heads.size(0), layers);
  }
  Rewiring out{importance_order(importance.heads), importance_order(importance.neurons)};
  for (int64_t layer = 0; layer < layers; ++layer) {
    model.sublayer(2 * layer).permute_units(out.heads[static_cast<size_t>(layer)]);
    model.sublayer(2 * layer + 1).permute_units(out.neurons[static_cast<size_t>(layer)]);
  }
  return out;
}

}  // namespace kprune
