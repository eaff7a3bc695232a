// The simple baselines of algorithms.md 7 (magnitude, random): scores, FLOPs budget,
// determinism, and the pruned model against the masked one.
#include <gtest/gtest.h>

#include <vector>

#include "framework/model/flops.h"
#include "framework/prune/kcm.h"
#include "framework/prune/magnitude.h"
#include "framework/prune/pruner.h"
#include "framework/util/error.h"
#include "tests/model_fixtures.h"

namespace kprune {
namespace {

std::vector<Batch> tiny_batches() { return {testing::tiny_batch({5, 9, 12}, 12, 7)}; }

PruneReport prune(const std::string& name, EncoderModel& model, double ratio,
                  const std::vector<std::string>& params = {}) {
  static const std::vector<Batch> batches = tiny_batches();
  PruneInput input;
  input.sample_batches = &batches;
  input.flops_reduction = ratio;
  input.flops_seq_len = 12;
  input.params = Params::parse(params);
  return run_pruner(name, model, input);
}

TEST(Magnitude, ScoresAreProductsOfNorms) {
  auto model = testing::tiny_model(testing::tiny_config(), 2);
  const auto [heads, neurons] = magnitude_scores(*model);
  ASSERT_EQ(heads.sizes(), (std::vector<int64_t>{2, 2}));
  ASSERT_EQ(neurons.sizes(), (std::vector<int64_t>{2, 6}));
  // Layer 1, head 1 (rows/columns 4..7) and neuron 3, from the raw weights.
  const Sublayer& mha = model->sublayer(2);
  const Sublayer& ffn = model->sublayer(3);
  const double head = mha.value_weight().slice(0, 4, 8).norm().item<double>() *
                      mha.out_weight().slice(1, 4, 8).norm().item<double>();
  const double neuron = ffn.in_weight()[3].norm().item<double>() *
                        ffn.out_weight().select(1, 3).norm().item<double>();
  EXPECT_NEAR(heads[1][1].item<double>(), head, 1e-12 * head);
  EXPECT_NEAR(neurons[1][3].item<double>(), neuron, 1e-12 * neuron);
}

TEST(Baselines, MeetTheBudgetAndPruneNothingAtZero) {
  for (const std::string name : {"magnitude", "random"}) {
    for (double ratio : {0.0, 0.2, 0.4, 0.6, 0.8}) {
      auto model = testing::tiny_model(testing::tiny_config(), 3);
      const PruneReport report = prune(name, *model, ratio);
      EXPECT_LE(report.flops_after, report.flops_budget * (1 + 1e-12)) << name << ratio;
      EXPECT_NEAR(report.flops_after, model_flops(model->config(), 12) / 1e9, 1e-15);
      if (ratio == 0) {
        EXPECT_FALSE(model->config().is_pruned()) << name;
      }
    }
  }
}

// KPMS CLEAN over score / FLOPs: the kept units are the best-ranked ones, and the best pruned
// unit would not fit any more.
TEST(Magnitude, KeepsAScorePrefixThatCannotGrow) {
  for (double ratio : {0.2, 0.5, 0.8}) {
    auto model = testing::tiny_model(testing::tiny_config(), 3);
    const auto [heads, neurons] = magnitude_scores(*model);
    const double head_cost = head_flops(model->config(), 12) / 1e9;
    const double neuron_cost = neuron_flops(model->config(), 12) / 1e9;
    const PruneReport report = prune("magnitude", *model, ratio);
    double min_kept = 1e300, max_pruned = -1, max_pruned_cost = 0;
    for (int64_t l = 0; l < 2; ++l) {
      for (int64_t u = 0; u < 8; ++u) {
        const bool is_head = u < 2;
        const double cost = is_head ? head_cost : neuron_cost;
        const double score = (is_head ? heads[l][u] : neurons[l][u - 2]).item<double>() / cost;
        const float kept = is_head ? report.head_masks[l][u] : report.neuron_masks[l][u - 2];
        if (kept == 1) {
          min_kept = std::min(min_kept, score);
        } else if (score > max_pruned) {
          max_pruned = score;
          max_pruned_cost = cost;
        }
      }
    }
    EXPECT_LT(max_pruned, min_kept) << ratio;
    EXPECT_GT(report.flops_after + max_pruned_cost, report.flops_budget) << ratio;
  }
}

TEST(Random, SameSeedSameMasksOtherSeedOtherMasks) {
  auto a = testing::tiny_model(testing::tiny_config(), 3);
  auto b = testing::tiny_model(testing::tiny_config(), 3);
  auto c = testing::tiny_model(testing::tiny_config(), 3);
  const PruneReport ra = prune("random", *a, 0.5, {"seed=4"});
  const PruneReport rb = prune("random", *b, 0.5, {"seed=4"});
  EXPECT_EQ(ra.head_masks, rb.head_masks);
  EXPECT_EQ(ra.neuron_masks, rb.neuron_masks);
  bool differs = false;
  for (uint64_t seed = 5; seed < 10 && !differs; ++seed) {
    auto other = testing::tiny_model(testing::tiny_config(), 3);
    const PruneReport rc = prune("random", *other, 0.5, {"seed=" + std::to_string(seed)});
    differs = rc.neuron_masks != ra.neuron_masks || rc.head_masks != ra.head_masks;
  }
  EXPECT_TRUE(differs);
}

// The physically pruned model equals the masked original whose fully pruned sublayers also
// lose their output bias (algorithms.md 1.5, invariant 3).
TEST(Baselines, PrunedModelEqualsTheMaskedModel) {
  for (double ratio : {0.3, 0.7}) {
    auto model = testing::tiny_model(testing::tiny_config(), 6);
    {
      torch::NoGradGuard no_grad;
      for (int64_t s = 0; s < model->num_sublayers(); ++s) model->sublayer(s).out_bias().normal_();
    }
    auto original = model->clone();
    const PruneReport report = prune("magnitude", *model, ratio);
    std::vector<torch::Tensor> masks;
    torch::NoGradGuard no_grad;
    for (size_t l = 0; l < report.head_masks.size(); ++l) {
      masks.push_back(torch::tensor(report.head_masks[l], torch::kFloat64));
      masks.push_back(torch::tensor(report.neuron_masks[l], torch::kFloat64));
    }
    for (int64_t s = 0; s < original->num_sublayers(); ++s) {
      if (masks[s].sum().item<double>() == 0) original->sublayer(s).out_bias().zero_();
    }
    ForwardOptions forward;
    forward.unit_masks = &masks;
    const Batch batch = tiny_batches()[0];
    const torch::Tensor expected = original->forward(batch, forward).logits;
    const torch::Tensor actual = model->forward(batch).logits;
    EXPECT_LT((actual - expected).abs().max().item<double>(),
              1e-10 * expected.abs().max().item<double>());
  }
}

TEST(KcmApprox, PrunesOnlyNeuronsWithinTheBudgetAndIsLabelledApproximate) {
  // The tiny model's FFN holds about 18 % of its FLOPs at length 12.
  for (double ratio : {0.05, 0.15}) {
    auto model = testing::tiny_model(testing::tiny_config(), 3);
    auto original = model->clone();
    const PruneReport report = prune("kcm", *model, ratio);
    EXPECT_EQ(report.label, "KCM-approx");
    EXPECT_LE(report.flops_after, report.flops_budget * (1 + 1e-12)) << ratio;
    EXPECT_EQ(model->config().heads_per_layer, (std::vector<int64_t>{2, 2}));
    EXPECT_EQ(report.sublayers[0].tuning, "skipped: attention not tuned");
    // The kept neurons are the best R2·D2 ones.
    const torch::Tensor scores = kcm_scores(*original, tiny_batches());
    double min_kept = 1e300, max_pruned = -1;
    for (int64_t l = 0; l < 2; ++l) {
      for (int64_t j = 0; j < 6; ++j) {
        const double score = scores[l][j].item<double>();
        if (report.neuron_masks[l][j] != 0) {
          min_kept = std::min(min_kept, score);
        } else {
          max_pruned = std::max(max_pruned, score);
        }
      }
    }
    EXPECT_LE(max_pruned, min_kept) << ratio;
    // The report's masks are 0/1; the tuned neuron values are the details'.
    const auto tuned =
        report.details.at("tuned").at("neuron_mask").get<std::vector<std::vector<float>>>();
    bool real_valued = false;
    for (int64_t l = 0; l < 2; ++l) {
      for (int64_t j = 0; j < 6; ++j) {
        const float kept = report.neuron_masks[l][j];
        EXPECT_TRUE(kept == 0 || kept == 1) << kept;
        EXPECT_EQ(kept, tuned[l][j] != 0 ? 1.0f : 0.0f);
        real_valued = real_valued || (tuned[l][j] != 0 && tuned[l][j] != 1);
      }
    }
    EXPECT_TRUE(real_valued) << "KCM's FFN masks are tuned";
  }
  auto model = testing::tiny_model(testing::tiny_config(), 3);
  EXPECT_THROW(prune("kcm", *model, 0.3), Error);  // beyond the FFN share of the FLOPs
}

}  // namespace
}  // namespace kprune
