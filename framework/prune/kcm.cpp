#include "framework/prune/kcm.h"

#include <cmath>

#include "framework/model/flops.h"
#include "framework/prune/kwon.h"
#include "framework/prune/masks.h"
#include "framework/util/error.h"

namespace kprune {
namespace {

// Unknown in the paper; the third-party form iterates until the relative change is below α.
constexpr double kConvexHullTolerance = 1e-4;
constexpr int kConvexHullMaxIterations = 200;

torch::Tensor min_max(const torch::Tensor& v) {
  const torch::Tensor range = v.max() - v.min();
  return range.item<double>() > 0 ? (v - v.min()) / range : torch::ones_like(v);
}

// R2 of one layer: w [d, I] output columns. σ² = mean squared pairwise distance (unknown in
// the paper).
torch::Tensor representative_scores(const torch::Tensor& w) {
  const torch::Tensor points = w.t().to(torch::kFloat64);  // [I, d]
  const torch::Tensor dist2 = torch::cdist(points, points).pow(2);
  const double sigma2 = std::max(dist2.mean().item<double>(), 1e-300);
  const torch::Tensor kernel = torch::exp(-dist2 / sigma2);
  const int64_t n = points.size(0);
  torch::Tensor c = torch::full({n, n}, 1.0 / static_cast<double>(n), torch::kFloat64);
  for (int it = 0; it < kConvexHullMaxIterations; ++it) {
    const torch::Tensor next = c * torch::sqrt(kernel / kernel.mm(c).clamp_min(1e-300));
    const double change = ((next - c).norm() / c.norm().clamp_min(1e-300)).item<double>();
    c = next;
    if (change < kConvexHullTolerance) break;
  }
  return min_max(c.diagonal());
}

class KcmPruner : public Pruner {
 public:
  PruneReport prune(EncoderModel& model, const PruneInput& input) override {
    const EncoderConfig original = model.config();
    const torch::Tensor scores = kcm_scores(model, *input.sample_batches);
    const KwonMacs macs = kwon_macs(original, input.flops_seq_len);
    const double heads_mac =
        static_cast<double>(original.num_layers * original.num_heads) * macs.per_head;
    const double max_mac = (1 - input.flops_reduction) * macs.original;
    if (heads_mac > max_mac) {
      fail(
          "KCM-approx prunes only FFN neurons: it can remove at most {:.4f} of the FLOPs, "
          "asked for {}",
          1 - heads_mac / macs.original, input.flops_reduction);
    }
    const int64_t keep = std::min<int64_t>(
        static_cast<int64_t>(std::floor((max_mac - heads_mac) / macs.per_neuron)), scores.numel());
    const torch::Tensor order = std::get<1>(scores.reshape(-1).sort(0, true));
    torch::Tensor neurons = torch::zeros({scores.numel()}, torch::kFloat32);
    neurons.index_fill_(0, order.slice(0, 0, keep), 1.0);
    const KwonMasks selected{torch::ones({original.num_layers, original.num_heads}),
                             neurons.reshape(scores.sizes())};
    const KwonMasks teacher{torch::ones_like(selected.heads), torch::ones_like(selected.neurons)};
    const KwonTuning tuning =
        tune_masks(model, *input.sample_batches, teacher, selected,
                   input.head_kind != HeadKind::question_answering, KwonMode::clean, false);
    apply_unit_masks(model, tuning.masks.heads, tuning.masks.neurons, EmptySublayer::keep_bias);

    PruneReport report;
    report_masks(tuning.masks, report);
    report.label = "KCM-approx";
    report.flops_before = full_model_flops(original, input.flops_seq_len) / 1e9;
    report.flops_after = model_flops(model.config(), input.flops_seq_len) / 1e9;
    report.flops_budget = (1 - input.flops_reduction) * report.flops_before;
    for (int64_t s = 0; s < model.num_sublayers(); ++s) {
      SublayerReport sub;
      sub.kept = model.sublayer(s).num_units();
      sub.total = s % 2 == 0 ? original.num_heads : original.intermediate_size;
      sub.tuning = tuning.status[s];
      report.sublayers.push_back(sub);
    }
    report.details["approximate"] = true;
    report.details["note"] =
        "KCM has no official code; R2·D2 scores, FFN-only, see algorithms.md 6";
    return report;
  }
};

}  // namespace

torch::Tensor kcm_scores(const EncoderModel& model, const std::vector<Batch>& batches) {
  torch::NoGradGuard no_grad;
  const int64_t num_layers = model.config().num_layers;
  std::vector<torch::Tensor> activation_norms(num_layers);
  for (const Batch& host : batches) {
    const Batch batch = host.to(model.device());
    std::vector<SublayerProbe> probes;
    ForwardOptions options;
    options.probes = &probes;
    model.forward(batch, options);
    const torch::Tensor real = batch.attention_mask.to(torch::kBool);
    for (int64_t l = 0; l < num_layers; ++l) {
      // [tokens, I] activations -> per-neuron L2 norm over the batch's real tokens.
      const torch::Tensor norms =
          probes[2 * l + 1].features.index({real}).to(torch::kFloat64).norm(2, 0).cpu();
      activation_norms[l] = activation_norms[l].defined() ? activation_norms[l] + norms : norms;
    }
  }
  std::vector<torch::Tensor> scores;
  for (int64_t l = 0; l < num_layers; ++l) {
    const torch::Tensor d2 = min_max(activation_norms[l] / static_cast<double>(batches.size()));
    const torch::Tensor r2 = representative_scores(model.sublayer(2 * l + 1).out_weight().cpu());
    scores.push_back(r2 * d2);
  }
  return torch::stack(scores);
}

PrunerInfo kcm_pruner_info() {
  return {"kcm",
          "KCM-approx (Nova et al. 2023, no official code: APPROXIMATE): R2·D2 neuron scores, "
          "FFN neurons only, Kwon-style FFN mask tuning",
          {},
          false,
          [] { return std::make_unique<KcmPruner>(); }};
}

}  // namespace kprune
