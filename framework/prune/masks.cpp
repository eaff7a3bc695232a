#include "framework/prune/masks.h"

#include <vector>

#include "framework/util/error.h"

namespace kprune {

void apply_unit_masks(EncoderModel& model, const torch::Tensor& head_masks,
                      const torch::Tensor& neuron_masks, EmptySublayer empty) {
  const int64_t num_layers = model.config().num_layers;
  if (head_masks.dim() != 2 || neuron_masks.dim() != 2 || head_masks.size(0) != num_layers ||
      neuron_masks.size(0) != num_layers) {
    fail("apply_unit_masks: expected masks [{}, H] and [{}, I]", num_layers, num_layers);
  }
  torch::NoGradGuard no_grad;
  for (int64_t s = 0; s < model.num_sublayers(); ++s) {
    Sublayer& sublayer = model.sublayer(s);
    const torch::Tensor mask = (s % 2 == 0 ? head_masks : neuron_masks)[s / 2].to(torch::kCPU);
    if (mask.size(0) != sublayer.num_units()) {
      fail("apply_unit_masks: sublayer {} has {} units but its mask has {}", s,
           sublayer.num_units(), mask.size(0));
    }
    const torch::Tensor kept_index = mask.nonzero().flatten();
    const std::vector<int64_t> kept(kept_index.data_ptr<int64_t>(),
                                    kept_index.data_ptr<int64_t>() + kept_index.numel());
    if (kept.empty()) {
      if (empty == EmptySublayer::keep_bias) {
        torch::Tensor previous_norm_bias =
            s == 0 ? model.parameter("embedding_norm_bias") : model.sublayer(s - 1).norm_bias();
        previous_norm_bias.add_(sublayer.out_bias());
      }
      sublayer.shrink({});
      continue;
    }
    // Output columns of the kept units, each scaled by its unit's mask value: [d, kept * width].
    const int64_t width = sublayer.unit_width();
    const torch::Tensor values =
        mask.index_select(0, kept_index)
            .to(sublayer.out_weight().device(), sublayer.out_weight().dtype())
            .repeat_interleave(width);
    const torch::Tensor columns =
        (kept_index.unsqueeze(1) * width + torch::arange(width).unsqueeze(0)).reshape(-1);
    const torch::Tensor new_out =
        sublayer.out_weight().index_select(1, columns.to(sublayer.out_weight().device())) * values;
    sublayer.shrink(kept, new_out);
  }
}

}  // namespace kprune
