#include "framework/prune/random_pruner.h"

#include <random>

#include "framework/prune/global_selection.h"

namespace kprune {
namespace {

class RandomPruner : public Pruner {
 public:
  PruneReport prune(EncoderModel& model, const PruneInput& input) override {
    const EncoderConfig& config = model.config();
    // std::mt19937_64 with a fixed draw order (heads, then neurons, layer by layer), so that
    // masks depend on the seed only.
    std::mt19937_64 engine(static_cast<uint64_t>(input.params.get_int("seed", 0)));
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    torch::Tensor heads = torch::empty({config.num_layers, config.num_heads}, torch::kFloat64);
    torch::Tensor neurons =
        torch::empty({config.num_layers, config.intermediate_size}, torch::kFloat64);
    for (int64_t i = 0; i < heads.numel(); ++i) heads.data_ptr<double>()[i] = uniform(engine);
    for (int64_t i = 0; i < neurons.numel(); ++i) neurons.data_ptr<double>()[i] = uniform(engine);
    PruneReport report = prune_by_global_selection(model, input, heads, neurons);
    report.details["seed"] = input.params.get_int("seed", 0);
    return report;
  }
};

}  // namespace

PrunerInfo random_pruner_info() {
  return {"random",
          "i.i.d. uniform unit scores, one global selection per FLOPs, no weight update",
          {{"seed", "0", "seed of the scores (report mean ± std over >= 3 seeds)"}},
          false,
          [] { return std::make_unique<RandomPruner>(); }};
}

}  // namespace kprune
