// Sub-networks (DynaBERT's width/depth multipliers), per-example and pre-activation unit masks,
// and unit permutation (retraining-baselines.md 1.3-1.4, 5.1, 5.6, 5.7, 5.19).
#include <gtest/gtest.h>

#include "framework/model/encoder.h"
#include "framework/model/flops.h"
#include "framework/model/subnetwork.h"
#include "framework/util/error.h"
#include "tests/model_fixtures.h"

namespace kprune {
namespace {

using testing::tiny_batch;
using testing::tiny_config;
using testing::tiny_model;

Multiplier m(const std::string& text) { return Multiplier::parse(text, "test"); }

template <typename F>
std::string error_of(F&& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(Multiplier, ParsesDecimalsAndFractionsExactly) {
  EXPECT_EQ(m("0.75").numerator, 3);
  EXPECT_EQ(m("0.75").denominator, 4);
  EXPECT_EQ(m("3/4").numerator, 3);
  EXPECT_EQ(m("1").denominator, 1);
  EXPECT_EQ(m(".5").numerator, 1);
  EXPECT_EQ(m("5/12").text(), "5/12");
  EXPECT_EQ(m("0.25").text(), "0.25");
  EXPECT_NE(error_of([] { m("-0.5"); }), "");
  EXPECT_NE(error_of([] { m("1/0"); }), "");
  EXPECT_NE(error_of([] { m("half"); }), "");
}

TEST(Multiplier, RoundsHalfToEvenLikePython) {
  EXPECT_EQ(round_half_even(5, 2), 2);   // round(2.5) = 2
  EXPECT_EQ(round_half_even(9, 2), 4);   // round(4.5) = 4
  EXPECT_EQ(round_half_even(7, 2), 4);   // round(3.5) = 4
  EXPECT_EQ(round_half_even(1, 2), 0);   // round(0.5) = 0
  EXPECT_EQ(round_half_even(10, 4), 2);  // 2.5 -> 2
  EXPECT_EQ(round_half_even(11, 4), 3);  // 2.75 -> 3
}

// The worked sizes and test vectors of retraining-baselines.md 1.4.
TEST(Subnetwork, WidthAndDepthArithmeticMatchesTheSpec) {
  for (const auto& [heads, ffn, width, kept_heads, kept_neurons] :
       std::vector<std::tuple<int64_t, int64_t, std::string, int64_t, int64_t>>{
           {12, 3072, "0.75", 9, 2304},
           {12, 3072, "0.5", 6, 1536},
           {12, 3072, "0.25", 3, 768},
           {4, 1024, "0.75", 3, 768},
           {4, 1024, "0.5", 2, 512},
           {4, 1024, "0.25", 1, 256},
           {12, 3072, "5/12", 5, 1280}}) {
    EXPECT_EQ(width_heads(heads, m(width)), kept_heads) << width;
    EXPECT_EQ(width_neurons(heads, ffn, m(width)), kept_neurons) << width;
  }
  using Layers = std::vector<int64_t>;
  EXPECT_EQ(depth_layers(12, m("0.5")), (Layers{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(depth_layers(12, m("0.75")), (Layers{0, 1, 2, 4, 5, 6, 8, 9, 10}));
  EXPECT_EQ(depth_layers(6, m("0.5")), (Layers{0, 2, 4}));
  EXPECT_EQ(depth_layers(6, m("0.75")), (Layers{0, 1, 2, 4}));  // L' = round(4.5) = 4
  EXPECT_EQ(depth_layers(4, m("0.5")), (Layers{0, 2}));
  EXPECT_EQ(depth_layers(4, m("0.75")), (Layers{0, 1, 2}));
  EXPECT_EQ(depth_layers(4, m("0.25")), (Layers{0}));
  EXPECT_EQ(depth_layers(4, m("1")), (Layers{0, 1, 2, 3}));
  // H' = 0 is rejected with the reason.
  EXPECT_NE(error_of([] { width_heads(4, m("0.1")); }).find("no head is left"), std::string::npos);
  EXPECT_NE(error_of([] { width_heads(12, m("1/24")); }).find("no head"), std::string::npos);
  EXPECT_NE(error_of([] { depth_layers(4, m("0.1")); }).find("0 of 4 layers"), std::string::npos);
}

// FLOPs of (m_w, m_d): ρ = 1 - (L'/L)(H'/H) when the neurons follow the heads (5.12).
TEST(Subnetwork, FlopsReductionIsTheProductOfTheKeptFractions) {
  nlohmann::json json = {{"model_type", "bert"},     {"vocab_size", 50},
                         {"hidden_size", 16},        {"num_hidden_layers", 4},
                         {"num_attention_heads", 4}, {"intermediate_size", 32}};
  const EncoderConfig config = EncoderConfig::from_json(json, "test");
  for (const auto& [w, d] : std::vector<std::pair<std::string, std::string>>{
           {"1", "1"}, {"0.5", "1"}, {"1", "0.5"}, {"0.75", "0.75"}, {"0.25", "0.5"}}) {
    const Subnetwork sub = Subnetwork::dynabert(config, m(w), m(d));
    const double expected =
        static_cast<double>(sub.layers.size()) / 4.0 * static_cast<double>(sub.heads[0]) / 4.0;
    EXPECT_NEAR(subnetwork_flops(config, sub, 20.0) / full_model_flops(config, 20.0), expected,
                1e-12)
        << w << " " << d;
  }
}

// Slicing ≡ extraction (5.6): the model run through slices equals the extracted smaller model,
// for every (width, depth) of the default grids, logits and hidden states, exactly.
TEST(Subnetwork, SlicedForwardEqualsTheExtractedModel) {
  const EncoderConfig config = tiny_config();  // L=2, H=2, d_f=6
  const auto model = tiny_model(config, 3);
  const Batch batch = tiny_batch({5, 3, 7}, 7, 4);
  for (const std::string width : {"1", "0.75", "0.5"}) {
    for (const std::string depth : {"1", "0.5"}) {
      const Subnetwork sub = Subnetwork::dynabert(config, m(width), m(depth));
      ForwardOptions sliced;
      sliced.subnetwork = &sub;
      sliced.output_hidden_states = true;
      const ModelOutput a = model->forward(batch, sliced);
      const auto small = model->extract(sub);
      EXPECT_EQ(small->config().num_layers, static_cast<int64_t>(sub.layers.size()));
      EXPECT_EQ(small->config().heads_per_layer[0], sub.heads[0]);
      ForwardOptions hidden;
      hidden.output_hidden_states = true;
      const ModelOutput b = small->forward(batch, hidden);
      EXPECT_TRUE(torch::equal(a.logits, b.logits)) << width << " " << depth;
      ASSERT_EQ(a.hidden_states.size(), sub.layers.size() + 1);
      ASSERT_EQ(b.hidden_states.size(), a.hidden_states.size());
      for (size_t k = 0; k < a.hidden_states.size(); ++k) {
        EXPECT_TRUE(torch::equal(a.hidden_states[k], b.hidden_states[k])) << k;
      }
    }
  }
  // The full sub-network is the model itself.
  const Subnetwork full = Subnetwork::full(config);
  ForwardOptions whole;
  whole.subnetwork = &full;
  EXPECT_TRUE(torch::equal(model->forward(batch, whole).logits, model->forward(batch).logits));
}

// A skipped layer is the identity: depth {0} of 2 layers is layer 0 followed by the head.
TEST(Subnetwork, ASkippedLayerIsTheIdentity) {
  const EncoderConfig config = tiny_config();
  const auto model = tiny_model(config, 5);
  const Batch batch = tiny_batch({4, 6}, 6, 2);
  const Subnetwork sub = Subnetwork::dynabert(config, m("1"), m("0.5"));
  ASSERT_EQ(sub.layers, (std::vector<int64_t>{0}));
  ForwardOptions forward;
  forward.subnetwork = &sub;
  const torch::Tensor bias = model->attention_bias(batch);
  const torch::Tensor x = model->run_sublayers(0, 2, model->embed(batch), bias);
  EXPECT_TRUE(torch::equal(model->forward(batch, forward).logits, model->head(x).logits));
}

// Slicing shares storage (5.7): a gradient step at width 0.5 changes only the first H' head
// blocks and F' neurons of the width-dependent tensors.
TEST(Subnetwork, GradientsOfASliceLandInTheLeadingUnitsOnly) {
  nlohmann::json json = {
      {"model_type", "bert"},          {"vocab_size", 50},         {"hidden_size", 8},
      {"num_hidden_layers", 2},        {"num_attention_heads", 4}, {"intermediate_size", 8},
      {"max_position_embeddings", 16}, {"num_labels", 3}};
  const EncoderConfig config = EncoderConfig::from_json(json, "test");
  auto model = EncoderModel::random(config, 7);
  model->to(torch::kFloat64);
  const Batch batch = tiny_batch({5, 6}, 6, 1);
  const Subnetwork sub = Subnetwork::dynabert(config, m("0.5"), m("1"));  // 2 heads, 4 neurons
  ForwardOptions forward;
  forward.subnetwork = &sub;
  model->forward(batch, forward).logits.sum().backward();
  const Sublayer& attention = model->sublayer(0);
  const Sublayer& ffn = model->sublayer(1);
  const int64_t dh = config.head_dim;
  const torch::Tensor qkv = attention.named_parameters()["in_weight"].grad();  // [3, H d_h, d]
  ASSERT_TRUE(qkv.defined());
  EXPECT_GT(qkv.slice(1, 0, 2 * dh).abs().sum().item<double>(), 0);
  EXPECT_EQ(qkv.slice(1, 2 * dh).abs().sum().item<double>(), 0);
  const torch::Tensor wo = attention.out_weight().grad();  // [d, H d_h]
  EXPECT_GT(wo.slice(1, 0, 2 * dh).abs().sum().item<double>(), 0);
  EXPECT_EQ(wo.slice(1, 2 * dh).abs().sum().item<double>(), 0);
  const torch::Tensor w1 = ffn.in_weight().grad();  // [F, d]
  EXPECT_GT(w1.slice(0, 0, 4).abs().sum().item<double>(), 0);
  EXPECT_EQ(w1.slice(0, 4).abs().sum().item<double>(), 0);
  EXPECT_EQ(ffn.out_weight().grad().slice(1, 4).abs().sum().item<double>(), 0);
}

// Per-example masks: a batch of one with mask rows equals the shared-vector path, and each
// example of a batch sees only its own row.
TEST(UnitMasks, PerExampleMasksEqualTheVectorPathExampleByExample) {
  const EncoderConfig config = tiny_config();
  const auto model = tiny_model(config, 9);
  const Batch batch = tiny_batch({5, 7, 3}, 7, 6);
  torch::manual_seed(1);
  std::vector<torch::Tensor> rows, pre_rows;  // per sublayer [B, units]
  for (int64_t s = 0; s < model->num_sublayers(); ++s) {
    const int64_t units = model->sublayer(s).num_units();
    rows.push_back(torch::rand({3, units}, torch::kFloat64));
    pre_rows.push_back(s % 2 == 1 ? torch::rand({3, units}, torch::kFloat64) : torch::Tensor());
  }
  ForwardOptions batched;
  batched.unit_masks = &rows;
  batched.pre_activation_masks = &pre_rows;
  const torch::Tensor together = model->forward(batch, batched).logits;
  for (int64_t b = 0; b < 3; ++b) {
    Batch one;
    one.input_ids = batch.input_ids.slice(0, b, b + 1);
    one.token_type_ids = batch.token_type_ids.slice(0, b, b + 1);
    one.attention_mask = batch.attention_mask.slice(0, b, b + 1);
    std::vector<torch::Tensor> vectors, pre_vectors, single_rows, single_pre;
    for (size_t s = 0; s < rows.size(); ++s) {
      vectors.push_back(rows[s][b]);
      single_rows.push_back(rows[s].slice(0, b, b + 1));
      pre_vectors.push_back(pre_rows[s].defined() ? pre_rows[s][b] : torch::Tensor());
      single_pre.push_back(pre_rows[s].defined() ? pre_rows[s].slice(0, b, b + 1)
                                                 : torch::Tensor());
    }
    ForwardOptions vector_path, row_path;
    vector_path.unit_masks = &vectors;
    vector_path.pre_activation_masks = &pre_vectors;
    row_path.unit_masks = &single_rows;
    row_path.pre_activation_masks = &single_pre;
    const torch::Tensor expected = model->forward(one, vector_path).logits;
    EXPECT_TRUE(torch::equal(model->forward(one, row_path).logits, expected)) << b;
    EXPECT_TRUE(torch::allclose(together[b], expected[0], 1e-12, 1e-12)) << b;
  }
}

// 0/1 pre-activation masks give the same forward values as 0/1 feature masks (GELU(0) = 0)
// (5.19); real-valued ones differ.
TEST(UnitMasks, BinaryPreActivationMasksEqualActivationMasks) {
  const EncoderConfig config = tiny_config();
  const auto model = tiny_model(config, 12);
  const Batch batch = tiny_batch({6, 4}, 6, 3);
  const int64_t neurons = config.intermediate_size;
  const torch::Tensor gates = torch::tensor(
      {{1.0, 0.0, 1.0, 1.0, 0.0, 1.0}, {0.0, 1.0, 1.0, 0.0, 0.0, 1.0}}, torch::kFloat64);
  ASSERT_EQ(gates.size(1), neurons);
  std::vector<torch::Tensor> post(4), pre(4);
  post[1] = post[3] = gates;
  pre[1] = pre[3] = gates;
  ForwardOptions a, b;
  a.unit_masks = &post;
  b.pre_activation_masks = &pre;
  EXPECT_TRUE(torch::allclose(model->forward(batch, a).logits, model->forward(batch, b).logits,
                              1e-12, 1e-12));
  std::vector<torch::Tensor> half(4);
  half[1] = half[3] = gates * 0.5;
  ForwardOptions c, d;
  c.unit_masks = &half;
  d.pre_activation_masks = &half;
  EXPECT_FALSE(torch::allclose(model->forward(batch, c).logits, model->forward(batch, d).logits,
                               1e-9, 1e-9));
  // A per-example mask of the wrong batch size names the shapes.
  std::vector<torch::Tensor> wrong(4);
  wrong[1] = torch::ones({3, neurons}, torch::kFloat64);
  ForwardOptions e;
  e.unit_masks = &wrong;
  EXPECT_NE(error_of([&] { model->forward(batch, e); }).find("[3, 6]"), std::string::npos);
}

// Permuting units changes nothing the model computes (rewiring, 5.2).
TEST(PermuteUnits, IsFunctionPreserving) {
  const EncoderConfig config = tiny_config();
  const auto model = tiny_model(config, 14);
  const Batch batch = tiny_batch({7, 5}, 7, 8);
  ForwardOptions hidden;
  hidden.output_hidden_states = true;
  const ModelOutput before = model->forward(batch, hidden);
  model->sublayer(0).permute_units({1, 0});
  model->sublayer(1).permute_units({5, 3, 1, 0, 2, 4});
  model->sublayer(3).permute_units({2, 0, 1, 5, 4, 3});
  const ModelOutput after = model->forward(batch, hidden);
  EXPECT_TRUE(torch::allclose(before.logits, after.logits, 1e-12, 1e-12));
  for (size_t k = 0; k < before.hidden_states.size(); ++k) {
    EXPECT_TRUE(torch::allclose(before.hidden_states[k], after.hidden_states[k], 1e-12, 1e-12));
  }
  EXPECT_NE(error_of([&] {
              model->sublayer(0).permute_units({0, 0});
            }).find("permutation"),
            std::string::npos);
}

}  // namespace
}  // namespace kprune
