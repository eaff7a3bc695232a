#include "framework/prune/magnitude.h"

#include "framework/prune/global_selection.h"

namespace kprune {

std::pair<torch::Tensor, torch::Tensor> magnitude_scores(const EncoderModel& model) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> heads, neurons;
  for (int64_t s = 0; s < model.num_sublayers(); s += 2) {
    const Sublayer& mha = model.sublayer(s);
    const Sublayer& ffn = model.sublayer(s + 1);
    const int64_t h = mha.num_units(), dh = mha.unit_width(), d = mha.hidden_size();
    const torch::Tensor value = mha.value_weight().to(torch::kFloat64).reshape({h, dh * d});
    const torch::Tensor out = mha.out_weight()
                                  .to(torch::kFloat64)
                                  .reshape({d, h, dh})
                                  .permute({1, 0, 2})
                                  .reshape({h, -1});
    heads.push_back(value.norm(2, 1) * out.norm(2, 1));
    neurons.push_back(ffn.in_weight().to(torch::kFloat64).norm(2, 1) *
                      ffn.out_weight().to(torch::kFloat64).norm(2, 0));
  }
  return {torch::stack(heads).cpu(), torch::stack(neurons).cpu()};
}

namespace {

class MagnitudePruner : public Pruner {
 public:
  PruneReport prune(EncoderModel& model, const PruneInput& input) override {
    const auto [heads, neurons] = magnitude_scores(model);
    return prune_by_global_selection(model, input, heads, neurons);
  }
};

}  // namespace

PrunerInfo magnitude_pruner_info() {
  return {"magnitude",
          "weight magnitude (head: |W_v|·|W_o| of its rows/columns; neuron: |W_1 row|·|W_2 "
          "column|), one global selection per FLOPs, no weight update",
          {},
          false,
          [] { return std::make_unique<MagnitudePruner>(); }};
}

}  // namespace kprune
