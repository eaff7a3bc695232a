// The encoder against HuggingFace (hf-forward fixtures) and the invariants 2-5 of
// algorithms.md section 9 on a tiny float64 model.
#include <gtest/gtest.h>

#include "framework/model/checkpoint.h"
#include "framework/model/encoder.h"
#include "framework/util/error.h"
#include "framework/util/files.h"
#include "tests/model_fixtures.h"
#include "tests/test_support.h"

namespace kprune {
namespace {

using testing::json_to_tensor;

// HF's tolerance for these fixtures: |ours - hf| <= 1e-6 + 1e-5 |hf| elementwise.
void expect_close(const torch::Tensor& ours, const torch::Tensor& hf, const std::string& what) {
  ASSERT_EQ(ours.sizes(), hf.sizes()) << what;
  const auto excess = (ours - hf).abs() - (1e-6 + 1e-5 * hf.abs());
  EXPECT_LE(excess.max().item<double>(), 0.0)
      << what << ": max abs difference " << (ours - hf).abs().max().item<double>();
}

void check_fixture(const std::string& name) {
  const std::string dir = testing::shared_path("fixtures/hf-forward/" + name);
  auto model = load_checkpoint(dir);
  const auto batches = read_json_lines(dir + "/batches.jsonl");
  const auto outputs = read_json_lines(dir + "/outputs.jsonl");
  ASSERT_EQ(batches.size(), outputs.size());
  ASSERT_FALSE(batches.empty());
  torch::NoGradGuard no_grad;
  for (size_t b = 0; b < batches.size(); ++b) {
    const Batch batch = testing::batch_from_json(batches[b]);
    ForwardOptions options;
    options.output_hidden_states = true;
    const ModelOutput out = model->forward(batch, options);
    const std::string where = name + " batch " + std::to_string(b);
    const auto& expected = outputs[b];
    if (expected.contains("logits")) {
      expect_close(out.logits, json_to_tensor(expected["logits"], torch::kFloat32),
                   where + " logits");
    } else {
      // QA logits are compared at every position, padded ones included.
      expect_close(out.start_logits, json_to_tensor(expected["start_logits"], torch::kFloat32),
                   where + " start_logits");
      expect_close(out.end_logits, json_to_tensor(expected["end_logits"], torch::kFloat32),
                   where + " end_logits");
    }
    const auto& hidden = expected["hidden_states"];
    ASSERT_EQ(out.hidden_states.size(), hidden.size()) << where;
    const torch::Tensor real = batch.attention_mask.to(torch::kBool);  // [B, T]
    for (size_t layer = 0; layer < hidden.size(); ++layer) {
      const torch::Tensor hf = json_to_tensor(hidden[layer], torch::kFloat32);
      expect_close(out.hidden_states[layer].index({real}), hf.index({real}),
                   where + " hidden state " + std::to_string(layer));
    }
  }
}

TEST(HfForward, BertClassification) { check_fixture("bert-cls3"); }
TEST(HfForward, BertRegression) { check_fixture("bert-reg"); }
TEST(HfForward, BertQuestionAnswering) { check_fixture("bert-qa"); }
TEST(HfForward, DistilBertClassification) { check_fixture("distilbert-cls2"); }
TEST(HfForward, DistilBertQuestionAnswering) { check_fixture("distilbert-qa"); }

TEST(HfForward, HeadsFollowTheCheckpoint) {
  auto qa = load_checkpoint(testing::shared_path("fixtures/hf-forward/bert-qa"));
  EXPECT_EQ(qa->config().head_kind, HeadKind::question_answering);
  auto reg = load_checkpoint(testing::shared_path("fixtures/hf-forward/bert-reg"));
  EXPECT_EQ(reg->config().head_kind, HeadKind::regression);
  EXPECT_EQ(reg->config().num_labels, 1);
  auto cls = load_checkpoint(testing::shared_path("fixtures/hf-forward/distilbert-cls2"));
  EXPECT_EQ(cls->config().head_kind, HeadKind::classification);
  EXPECT_EQ(cls->config().num_labels, 2);  // HF's default without id2label
}

double max_rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

torch::Tensor main_output(const ModelOutput& out) {
  return out.logits.defined() ? out.logits : torch::stack({out.start_logits, out.end_logits});
}

class TinyModel : public ::testing::TestWithParam<std::tuple<std::string, HeadKind>> {
 protected:
  EncoderConfig config() const {
    return testing::tiny_config(std::get<0>(GetParam()), std::get<1>(GetParam()));
  }
};

// Invariant 2: all-ones masks (per unit and per feature column) change nothing.
TEST_P(TinyModel, OnesMaskEqualsPlainForward) {
  auto model = testing::tiny_model(config(), 1);
  const Batch batch = testing::tiny_batch({7, 4, 9}, 9, 2);
  const torch::Tensor plain = main_output(model->forward(batch));
  std::vector<torch::Tensor> masks;
  for (int64_t s = 0; s < model->num_sublayers(); ++s) {
    const Sublayer& sub = model->sublayer(s);
    // Per-unit masks on even sublayers, per-column masks on odd ones.
    masks.push_back(
        torch::ones({s % 2 == 0 ? sub.num_units() : sub.num_features()}, torch::kFloat64));
  }
  ForwardOptions options;
  options.unit_masks = &masks;
  EXPECT_TRUE(torch::equal(main_output(model->forward(batch, options)), plain));
}

// Invariant 3: shrinking to the kept units equals masking the removed ones; a fully pruned
// sublayer equals a masked one whose output bias is zeroed (LN(X), algorithms.md 1.5).
TEST_P(TinyModel, PhysicalPruningEqualsMasking) {
  auto model = testing::tiny_model(config(), 3);
  const Batch batch = testing::tiny_batch({9, 5, 2}, 9, 4);
  // s=0: heads {1}; s=1: neurons {0,2,5}; s=2: no head (LN-only); s=3: all neurons.
  const std::vector<std::vector<int64_t>> keep = {{1}, {0, 2, 5}, {}, {0, 1, 2, 3, 4, 5}};
  auto masked = model->clone();
  std::vector<torch::Tensor> masks;
  for (int64_t s = 0; s < 4; ++s) {
    torch::Tensor mask = torch::zeros({masked->sublayer(s).num_units()}, torch::kFloat64);
    for (int64_t unit : keep[s]) mask[unit] = 1.0;
    masks.push_back(mask);
    if (keep[s].empty()) masked->sublayer(s).out_bias().detach().zero_();
  }
  ForwardOptions options;
  options.unit_masks = &masks;
  const torch::Tensor expected = main_output(masked->forward(batch, options));

  const int64_t params_before = model->num_parameters();
  for (int64_t s = 0; s < 4; ++s) model->sublayer(s).shrink(keep[s]);
  const torch::Tensor pruned = main_output(model->forward(batch));
  EXPECT_LT(max_rel_diff(pruned, expected), 1e-10);
  EXPECT_TRUE(model->sublayer(2).is_empty());
  EXPECT_EQ(model->config().heads_per_layer, (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(model->config().neurons_per_layer, (std::vector<int64_t>{3, 6}));

  // Invariant 4: per head 4 d d_h + 3 d_h, per neuron 2 d + 1 (d=8, d_h=4); the LN-only
  // sublayer also drops its output bias (d).
  const int64_t d = 8, dh = 4;
  const int64_t removed_heads = 1 + 2, removed_neurons = 3;
  EXPECT_EQ(model->num_parameters(), params_before - removed_heads * (4 * d * dh + 3 * dh) -
                                         removed_neurons * (2 * d + 1) - d);
}

// Invariant 5: a sequence's output does not depend on its batch's padding.
TEST_P(TinyModel, PaddingInvariance) {
  auto model = testing::tiny_model(config(), 5);
  const Batch short_batch = testing::tiny_batch({6, 3}, 6, 6);
  Batch long_batch = short_batch;
  const int64_t extra = 5;
  auto pad = [&](const torch::Tensor& t) {
    return torch::cat({t, torch::zeros({t.size(0), extra}, t.options())}, 1);
  };
  long_batch.input_ids = pad(short_batch.input_ids);
  long_batch.token_type_ids = pad(short_batch.token_type_ids);
  long_batch.attention_mask = pad(short_batch.attention_mask);
  const ModelOutput a = model->forward(short_batch);
  const ModelOutput b = model->forward(long_batch);
  if (a.logits.defined()) {
    EXPECT_LT(max_rel_diff(b.logits, a.logits), 1e-12);
  } else {
    const torch::Tensor real = short_batch.attention_mask.to(torch::kBool);
    EXPECT_LT(
        max_rel_diff(b.start_logits.slice(1, 0, 6).index({real}), a.start_logits.index({real})),
        1e-12);
    EXPECT_LT(max_rel_diff(b.end_logits.slice(1, 0, 6).index({real}), a.end_logits.index({real})),
              1e-12);
  }
}

// Running a suffix from a probe's cached input reproduces the full forward, and the probe's
// pre-LN sum is input + output projection of its (masked) features.
TEST_P(TinyModel, SuffixFromProbesAndProbeContents) {
  auto model = testing::tiny_model(config(), 7);
  const Batch batch = testing::tiny_batch({5, 8}, 8, 8);
  std::vector<SublayerProbe> probes;
  std::vector<torch::Tensor> masks(model->num_sublayers());
  masks[2] = torch::tensor({1.0, 0.5}, torch::kFloat64);
  ForwardOptions options;
  options.probes = &probes;
  options.unit_masks = &masks;
  const torch::Tensor full = main_output(model->forward(batch, options));
  ASSERT_EQ(static_cast<int64_t>(probes.size()), model->num_sublayers());
  for (int64_t s = 0; s < model->num_sublayers(); ++s) {
    const Sublayer& sub = model->sublayer(s);
    const SublayerProbe& probe = probes[s];
    ASSERT_EQ(probe.features.size(2), sub.num_features());
    const torch::Tensor rebuilt =
        probe.input + torch::linear(probe.features, sub.out_weight(), sub.out_bias());
    EXPECT_LT(max_rel_diff(rebuilt, probe.pre_ln), 1e-12) << "sublayer " << s;
    const torch::Tensor x = model->run_sublayers(s, model->num_sublayers(), probe.input,
                                                 model->attention_bias(batch), options);
    EXPECT_TRUE(torch::equal(main_output(model->head(x)), full)) << "suffix from " << s;
  }
  // The half mask of sublayer 2 shows in its features: head 1 columns are halved.
  ForwardOptions unmasked;
  std::vector<SublayerProbe> plain;
  unmasked.probes = &plain;
  model->run_sublayers(2, 3, probes[2].input, model->attention_bias(batch), unmasked);
  const int64_t dh = model->config().head_dim;
  EXPECT_TRUE(torch::allclose(probes[2].features.slice(2, dh, 2 * dh),
                              plain[2].features.slice(2, dh, 2 * dh) * 0.5));
}

// Kwon's tuning runs the kept units only and rescales them through the output projection:
// both must equal the masked forward of the whole sublayer.
TEST_P(TinyModel, UnitSubsetFeaturesAndProjectEqualTheMaskedForward) {
  auto model = testing::tiny_model(config(), 17);
  const Batch batch = testing::tiny_batch({6, 4}, 6, 18);
  const torch::Tensor bias = model->attention_bias(batch);
  torch::Tensor x = model->embed(batch);
  for (int64_t s = 0; s < 2; ++s) {
    const Sublayer& sub = model->sublayer(s);
    const int64_t n = sub.num_units();
    const torch::Tensor units = torch::tensor({n - 1}, torch::kInt64);  // the last unit alone
    torch::Tensor mask = torch::zeros({n}, torch::kFloat64);
    mask[n - 1] = 0.75;
    SublayerProbe probe;
    const torch::Tensor masked = sub.forward(x, bias, mask, &probe);

    const torch::Tensor columns = sub.unit_columns(units);
    ASSERT_EQ(columns.numel(), sub.unit_width());
    EXPECT_EQ(columns[0].item<int64_t>(), (n - 1) * sub.unit_width());
    const torch::Tensor subset = sub.features(x, bias, units);  // [B, T, width]
    EXPECT_LT(max_rel_diff(subset, sub.features(x, bias).index_select(2, columns)), 1e-12);
    SublayerProbe subset_probe;
    const torch::Tensor projected = sub.project(x, subset * 0.75, columns, &subset_probe);
    EXPECT_LT(max_rel_diff(projected, masked), 1e-12) << "sublayer " << s;
    EXPECT_LT(max_rel_diff(subset_probe.pre_ln, probe.pre_ln), 1e-12);
    EXPECT_LT(max_rel_diff(sub.project(x, probe.features), masked), 1e-12);
    // No unit at all: the output projection is its bias alone.
    const torch::Tensor none = torch::zeros({0}, torch::kInt64);
    EXPECT_EQ(sub.features(x, bias, none).size(2), 0);
    EXPECT_LT(max_rel_diff(sub.project(x, sub.features(x, bias, none), none),
                           sub.forward(x, bias, torch::zeros({n}, torch::kFloat64))),
              1e-12);
    EXPECT_THROW(sub.project(x, subset, {}), Error);
    x = masked;
  }
}

// Masks may require grad: the gradient of the output w.r.t. a unit's mask is the change that
// removing it makes to first order; here we only check it flows and has the right shape.
TEST_P(TinyModel, MaskGradientsFlowWithoutParameterGradients) {
  auto model = testing::tiny_model(config(), 9);
  for (auto& parameter : model->parameters()) parameter.set_requires_grad(false);
  const Batch batch = testing::tiny_batch({6, 6}, 6, 10);
  std::vector<torch::Tensor> masks;
  for (int64_t s = 0; s < model->num_sublayers(); ++s) {
    masks.push_back(torch::ones({model->sublayer(s).num_features()},
                                torch::dtype(torch::kFloat64).requires_grad(true)));
  }
  ForwardOptions options;
  options.unit_masks = &masks;
  main_output(model->forward(batch, options)).pow(2).sum().backward();
  for (const auto& mask : masks) {
    ASSERT_TRUE(mask.grad().defined());
    EXPECT_GT(mask.grad().abs().sum().item<double>(), 0.0);
  }
}

TEST_P(TinyModel, ShrinkWithNewOutputWeight) {
  auto model = testing::tiny_model(config(), 11);
  const Batch batch = testing::tiny_batch({4, 7}, 7, 12);
  Sublayer& ffn = model->sublayer(1);
  const torch::Tensor replacement = torch::randn({8, 2}, torch::kFloat64);
  std::vector<SublayerProbe> probes;
  ForwardOptions options;
  options.probes = &probes;
  ffn.shrink({1, 4}, replacement);
  model->forward(batch, options);
  EXPECT_TRUE(torch::equal(ffn.out_weight(), replacement));
  EXPECT_EQ(ffn.in_weight().size(0), 2);
  const torch::Tensor rebuilt =
      probes[1].input + torch::linear(probes[1].features, replacement, ffn.out_bias());
  EXPECT_LT(max_rel_diff(rebuilt, probes[1].pre_ln), 1e-12);
  EXPECT_THROW(ffn.shrink({1, 0}), Error);
  EXPECT_THROW(ffn.shrink({0}, torch::zeros({8, 3}, torch::kFloat64)), Error);
}

TEST_P(TinyModel, DropoutOnlyInTraining) {
  auto model = testing::tiny_model(config(), 13);
  const Batch batch = testing::tiny_batch({6, 6}, 6, 14);
  const torch::Tensor eval_a = main_output(model->forward(batch));
  const torch::Tensor eval_b = main_output(model->forward(batch));
  EXPECT_TRUE(torch::equal(eval_a, eval_b));
  model->train();
  torch::manual_seed(0);
  const torch::Tensor train = main_output(model->forward(batch));
  EXPECT_FALSE(torch::allclose(train, eval_a));
}

TEST_P(TinyModel, CloneIsDeep) {
  auto model = testing::tiny_model(config(), 15);
  auto copy = model->clone();
  const Batch batch = testing::tiny_batch({5}, 5, 16);
  EXPECT_TRUE(torch::equal(main_output(copy->forward(batch)), main_output(model->forward(batch))));
  EXPECT_EQ(copy->dtype(), torch::kFloat64);
  copy->sublayer(0).shrink({0});
  EXPECT_EQ(model->sublayer(0).num_units(), 2);
  EXPECT_EQ(model->config().heads_per_layer[0], 2);
}

INSTANTIATE_TEST_SUITE_P(Families, TinyModel,
                         ::testing::Values(std::make_tuple("bert", HeadKind::classification),
                                           std::make_tuple("bert", HeadKind::regression),
                                           std::make_tuple("bert", HeadKind::question_answering),
                                           std::make_tuple("distilbert", HeadKind::classification),
                                           std::make_tuple("distilbert",
                                                           HeadKind::question_answering)));

TEST(Encoder, RandomInitIsDeterministicAndHfLike) {
  const EncoderConfig config = testing::tiny_config();
  auto a = EncoderModel::random(config, 42);
  auto b = EncoderModel::random(config, 42);
  auto c = EncoderModel::random(config, 43);
  EXPECT_TRUE(torch::equal(a->sublayer(0).query_weight(), b->sublayer(0).query_weight()));
  EXPECT_FALSE(torch::equal(a->sublayer(0).query_weight(), c->sublayer(0).query_weight()));
  EXPECT_TRUE(torch::equal(a->parameter("word_embeddings")[0], torch::zeros({8})));
  EXPECT_TRUE(torch::equal(a->sublayer(1).norm_weight(), torch::ones({8})));
  EXPECT_TRUE(torch::equal(a->sublayer(1).out_bias(), torch::zeros({8})));
  EncoderConfig big = config;
  big.vocab_size = 2000;
  big.initializer_range = 0.02;
  auto d = EncoderModel::random(big, 1);
  const torch::Tensor words = d->parameter("word_embeddings").slice(0, 1);
  EXPECT_NEAR(words.std().item<double>(), 0.02, 0.001);
  EXPECT_NEAR(words.mean().item<double>(), 0.0, 0.001);
}

TEST(Encoder, BadInputsAreClearErrors) {
  auto model = testing::tiny_model(testing::tiny_config(), 1);
  Batch batch = testing::tiny_batch({4}, 4, 1);
  batch.input_ids[0][1] = 50;
  try {
    model->forward(batch);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("id 50 outside the vocabulary [0, 50)"),
              std::string::npos)
        << error.what();
  }
  EXPECT_THROW(model->forward(testing::tiny_batch({17}, 17, 1)), Error);  // > max positions
  std::vector<torch::Tensor> masks(4);
  masks[0] = torch::ones({3}, torch::kFloat64);
  ForwardOptions options;
  options.unit_masks = &masks;
  EXPECT_THROW(model->forward(testing::tiny_batch({4}, 4, 1), options), Error);
}

}  // namespace
}  // namespace kprune
