// EBERT (retraining-baselines.md 2 and the invariants 5.15-5.24): gates and their gradient, the
// noise, gated forward passes at the extremes, the penalty on a hand-made case, expected FLOPs,
// batch independence, BatchNorm modes, the target check and a training that resumes.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "framework/model/flops.h"
#include "framework/retrain/ebert.h"
#include "framework/retrain/retrain_method.h"
#include "framework/util/error.h"
#include "tests/retrain_fixtures.h"
#include "tests/test_support.h"

namespace kprune {
namespace {

Batch first_examples(const testing::KeywordData& data, int64_t count) {
  std::vector<int64_t> members(static_cast<size_t>(count));
  std::iota(members.begin(), members.end(), 0);
  return data.data.train_batch(members);
}

// Sets every predictor's output bias, so that all gates of a kind open (> 0) or close.
void force_gates(EbertModel& model, double heads, double neurons) {
  torch::NoGradGuard no_grad;
  for (auto& item : model.predictor_parameters()) {
    const std::string& name = item.key();
    if (name.find(".second.bias") == std::string::npos) continue;
    item.value().fill_(name.rfind("heads_", 0) == 0 ? heads : neurons);
  }
}

// 5.15: eval gates are 1[z >= 0] exactly; training gates take only the values 0 and 1.
TEST(EbertGate, EvalThresholdsAtZeroAndTrainingIsBinary) {
  const torch::Tensor z = torch::tensor({-1.0, -1e-9, 0.0, 1e-9, 2.0}, torch::kFloat64);
  EXPECT_TRUE(
      torch::equal(gate(z, false, 1.0), torch::tensor({0.0, 0.0, 1.0, 1.0, 1.0}, torch::kFloat64)));
  torch::manual_seed(3);
  const torch::Tensor trained = gate(torch::randn({1000}, torch::kFloat64), true, 1.0);
  EXPECT_TRUE(torch::equal(trained, trained.round()));
  EXPECT_GT(trained.sum().item<double>(), 300);
  EXPECT_LT(trained.sum().item<double>(), 700);
}

// 5.16: the straight-through gradient is σ'((z + g) / τ) / τ for the injected noise.
TEST(EbertGate, StraightThroughGradientIsTheSigmoidsDerivative) {
  const double tau = 0.7;
  const torch::Tensor z = torch::tensor({-0.8, 0.1, 1.5}, torch::kFloat64).requires_grad_();
  const torch::Tensor noise = torch::tensor({0.3, -0.4, 0.2}, torch::kFloat64);
  const torch::Tensor hard = gate(z, true, tau, noise);
  EXPECT_TRUE(torch::equal(hard.detach(), torch::tensor({0.0, 0.0, 1.0}, torch::kFloat64)));
  hard.sum().backward();
  const torch::Tensor s = torch::sigmoid((z.detach() + noise) / tau);
  EXPECT_TRUE(torch::allclose(z.grad(), s * (1 - s) / tau, 1e-12, 1e-14));
}

// 5.17: logistic noise has mean 0 and variance π²/3.
TEST(EbertGate, NoiseIsLogistic) {
  torch::manual_seed(17);
  const torch::Tensor g = logistic_noise({1000000}, torch::TensorOptions().dtype(torch::kFloat64));
  EXPECT_NEAR(g.mean().item<double>(), 0.0, 0.01 * std::sqrt(M_PI * M_PI / 3));
  EXPECT_NEAR(g.var().item<double>(), M_PI * M_PI / 3, 0.01 * M_PI * M_PI / 3);
}

// 5.18: open gates give the teacher's outputs exactly; closed FFN gates leave LN(X + b2).
TEST(EbertModel, OpenGatesAreTheTeacherAndClosedFfnGatesLeaveTheBias) {
  auto data = testing::keyword_data(16, 8);
  const Batch batch = first_examples(*data, 6);
  const auto teacher = testing::keyword_teacher(51);
  EbertModel open(teacher->clone(), EbertOptions{}, 1);
  open.eval();
  force_gates(open, 100, 100);
  const EbertModel::Output out = open.forward(batch);
  EXPECT_TRUE(torch::equal(out.model.logits, teacher->forward(batch).logits));
  EXPECT_EQ(out.head_gates.sum().item<double>(), 6.0 * 2 * 4);
  EXPECT_EQ(out.neuron_gates.sum().item<double>(), 6.0 * 2 * 8);

  const auto one_layer = testing::keyword_teacher(52, 1);
  EbertModel no_ffn(one_layer->clone(), EbertOptions{}, 1);
  no_ffn.eval();
  force_gates(no_ffn, 100, -100);
  const torch::Tensor bias = one_layer->attention_bias(batch);
  const torch::Tensor after_attention =
      one_layer->sublayer(0).forward(one_layer->embed(batch), bias);
  const Sublayer& ffn = one_layer->sublayer(1);
  const torch::Tensor expected = torch::layer_norm(after_attention + ffn.out_bias(), {16},
                                                   ffn.norm_weight(), ffn.norm_bias(), 1e-12);
  EXPECT_TRUE(torch::allclose(no_ffn.forward(batch).model.logits, one_layer->head(expected).logits,
                              1e-6, 1e-7));
}

// 5.20: the penalty on a hand-made 2-layer case, and zero sparsity terms when every layer keeps
// exactly the fraction 1 - s.
TEST(EbertPenalty, MatchesHandComputedValues) {
  EbertModel::Output out;
  // [B=2, L=2, H=2] and [2, 2, F=4].
  out.head_gates = torch::tensor({{{1.0, 1.0}, {0.0, 0.0}}, {{1.0, 0.0}, {1.0, 0.0}}});
  out.neuron_gates = torch::tensor(
      {{{1.0, 1.0, 1.0, 1.0}, {1.0, 0.0, 0.0, 0.0}}, {{1.0, 1.0, 0.0, 0.0}, {0.0, 0.0, 0.0, 0.0}}});
  EbertFlops terms;
  terms.head = 10;
  terms.neuron = 1;
  terms.predictor = 3;
  terms.total = 48;  // L (H f_head + F f_ffn) = 2 (20 + 4)
  const EbertPenalty penalty = ebert_penalty(out, terms, 0.5);
  // h̄ = (1.5, 0.5), k̄ = (3, 0.5): F_dyn = 2·3 + 1.5·10 + 3 + 0.5·10 + 0.5 = 29.5.
  EXPECT_NEAR(penalty.flops.item<double>(), std::pow(1 - 29.5 / 48 - 0.5, 2), 1e-7);
  EXPECT_NEAR(penalty.heads.item<double>(), 0.0625, 1e-7);
  EXPECT_NEAR(penalty.neurons.item<double>(), (0.0625 + 0.140625) / 2, 1e-7);
  EXPECT_NEAR(penalty.total(4).item<double>(),
              4 * (std::pow(1 - 29.5 / 48 - 0.5, 2) + 5 * 0.0625 + 5 * 0.1015625), 1e-6);

  out.head_gates = torch::tensor({{{1.0, 0.0}, {0.0, 1.0}}, {{0.0, 1.0}, {1.0, 0.0}}});
  out.neuron_gates = torch::tensor(
      {{{1.0, 1.0, 0.0, 0.0}, {0.0, 1.0, 0.0, 1.0}}, {{0.0, 0.0, 1.0, 1.0}, {1.0, 0.0, 1.0, 0.0}}});
  const EbertPenalty exact = ebert_penalty(out, terms, 0.5);
  EXPECT_EQ(exact.heads.item<double>(), 0.0);
  EXPECT_EQ(exact.neurons.item<double>(), 0.0);
}

// 5.21 and 5.22: the dev FLOPs are the mean of per-example FLOPs, each within [L P, F0 + L P],
// and an example's gates and logits do not depend on its batch or padding.
TEST(EbertEvaluation, FlopsAreThePerExampleMeanAndExamplesAreIndependent) {
  auto data = testing::keyword_data(16, 12);
  const auto teacher = testing::keyword_teacher(53);
  EbertOptions options;
  EbertModel model(teacher->clone(), options, 9);
  model.eval();
  const EbertEvaluation evaluation = evaluate_ebert(model, data->data, options.predictor_hidden);
  const EncoderConfig& config = teacher->config();
  const double seq_len = data->data.flops_seq_len;
  const double predictors =
      2.0 * ebert_flops(config, seq_len, options.predictor_hidden, false).predictor;
  const double full = full_model_flops(config, seq_len);
  double sum = 0;
  const std::vector<Feature>& dev = data->dev.features;
  const Batch all = collate({&dev[0], &dev[1], &dev[2], &dev[3]}, HeadKind::classification);
  const EbertModel::Output together = model.forward(all);
  for (size_t i = 0; i < dev.size(); ++i) {
    const Batch one = collate({&dev[i]}, HeadKind::classification);
    const EbertModel::Output alone = model.forward(one);
    const double flops = alone.head_gates.sum().item<double>() * head_flops(config, seq_len) +
                         alone.neuron_gates.sum().item<double>() * neuron_flops(config, seq_len) +
                         predictors;
    EXPECT_GE(flops, predictors);
    EXPECT_LE(flops, full + predictors);
    sum += flops;
    if (i < 4) {
      EXPECT_TRUE(torch::equal(alone.head_gates[0], together.head_gates[static_cast<int64_t>(i)]));
      EXPECT_TRUE(
          torch::equal(alone.neuron_gates[0], together.neuron_gates[static_cast<int64_t>(i)]));
      EXPECT_TRUE(torch::allclose(alone.model.logits[0],
                                  together.model.logits[static_cast<int64_t>(i)], 1e-5, 1e-6));
    }
  }
  EXPECT_NEAR(evaluation.flops, sum / static_cast<double>(dev.size()), 1e-6 * sum);
  EXPECT_NEAR(evaluation.flops_reduction(), 1 - evaluation.flops / full, 1e-12);
}

// 5.24: the predictors' BatchNorm uses batch statistics in training (and updates its running
// statistics with momentum 0.1), the running statistics in eval.
TEST(EbertModel, BatchNormUsesBatchStatisticsOnlyInTraining) {
  torch::manual_seed(4);
  GatePredictor predictor(6, 5, 3, 1e-12);
  const torch::Tensor x = torch::randn({10, 6});
  predictor.train();
  const torch::Tensor trained = predictor.forward(x);
  const auto buffers = predictor.named_buffers();
  const auto parameters = predictor.named_parameters();
  const torch::Tensor hidden =
      torch::linear(x, parameters["first.weight"], parameters["first.bias"]);  // [10, 5]
  EXPECT_TRUE(torch::allclose(buffers["norm.running_mean"], 0.1 * hidden.mean(0), 1e-5, 1e-6));
  predictor.eval();
  const torch::Tensor running =
      (hidden - buffers["norm.running_mean"]) / torch::sqrt(buffers["norm.running_var"] + 1e-12);
  const torch::Tensor expected =
      torch::linear(torch::relu(running), parameters["second.weight"], parameters["second.bias"]);
  EXPECT_TRUE(torch::allclose(predictor.forward(x), expected, 1e-5, 1e-6));
  EXPECT_FALSE(torch::allclose(trained, expected, 1e-3, 1e-3));
  // A batch of one cannot be normalised in training; the options refuse it.
  Params p;
  p.set("batch_size", "1");
  EXPECT_THROW(ebert_options(p, 0), Error);
}

TEST(EbertTraining, RefusesATargetItsGatesCannotReach) {
  auto data = testing::keyword_data(16, 8);
  const auto teacher = testing::keyword_teacher(54);
  std::ostringstream log;
  try {
    train_ebert(*teacher, data->data, EbertOptions{}, 0.999, testing::temp_dir("ebert"), log);
    ADD_FAILURE() << "no error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("outside what its gates can reach"), std::string::npos)
        << error.what();
  }
}

EbertOptions short_ebert() {
  Params p;
  p.set("epochs", "3");
  p.set("batch_size", "8");
  p.set("lr", "1e-3");
  p.set("evals_per_epoch", "2");
  p.set("save_every", "5");
  return ebert_options(p, 7);
}

// Trains, records its curve, and a run in parts ends as an uninterrupted one.
TEST(EbertTraining, TrainsRecordsACurveAndResumes) {
  torch::set_num_threads(1);
  auto data = testing::keyword_data(64, 24);
  const auto teacher = testing::keyword_teacher(55);
  std::ostringstream log;
  const EbertTraining whole =
      train_ebert(*teacher, data->data, short_ebert(), 0.5, testing::temp_dir("ebert-whole"), log);
  ASSERT_TRUE(whole.finished);
  EXPECT_EQ(whole.steps, 24);              // 3 epochs of 8 batches
  ASSERT_EQ(whole.curve.size(), 1u + 6u);  // step 0, then every 4 steps
  EXPECT_EQ(whole.curve.back().step, 24);
  EXPECT_DOUBLE_EQ(whole.curve.back().metric,
                   whole.final.metrics.at("accuracy"));  // the last checkpoint is the result
  EXPECT_DOUBLE_EQ(whole.curve.back().flops_reduction, whole.final.flops_reduction());
  EXPECT_EQ(whole.final.head_keep.sizes(), torch::IntArrayRef({2, 4}));
  EXPECT_GE(whole.final.head_keep.min().item<double>(), 0.0);
  EXPECT_LE(whole.final.head_keep.max().item<double>(), 1.0);

  EbertOptions parts = short_ebert();
  parts.stop_after = 10;
  const std::string dir = testing::temp_dir("ebert-parts");
  EXPECT_FALSE(train_ebert(*teacher, data->data, parts, 0.5, dir, log).finished);
  parts.stop_after = 0;
  const EbertTraining resumed = train_ebert(*teacher, data->data, parts, 0.5, dir, log);
  ASSERT_TRUE(resumed.finished);
  const auto a = whole.model->named_parameters(), b = resumed.model->named_parameters();
  for (const auto& item : a) EXPECT_TRUE(torch::equal(item.value(), b[item.key()])) << item.key();
  const auto ab = whole.model->named_buffers(), bb = resumed.model->named_buffers();
  for (const auto& item : ab) EXPECT_TRUE(torch::equal(item.value(), bb[item.key()])) << item.key();
  ASSERT_EQ(resumed.curve.size(), whole.curve.size());
  for (size_t i = 0; i < whole.curve.size(); ++i) {
    EXPECT_DOUBLE_EQ(resumed.curve[i].metric, whole.curve[i].metric);
  }

  // Calibrated: one logit offset brings the average reduction to the target, and the curve
  // ends with that result.
  EbertOptions calibrated = short_ebert();
  calibrated.calibrate = true;
  const EbertTraining fitted = train_ebert(*teacher, data->data, calibrated, 0.7,
                                           testing::temp_dir("ebert-calibrated"), log);
  EXPECT_NEAR(fitted.final.flops_reduction(), 0.7, 0.06);
  EXPECT_NE(fitted.model->logit_offset(), 0.0);
  EXPECT_EQ(fitted.curve.size(), whole.curve.size() + 1);
  EXPECT_DOUBLE_EQ(fitted.curve.back().flops_reduction, fitted.final.flops_reduction());
  EXPECT_DOUBLE_EQ(fitted.curve.back().pruning_seconds(), fitted.pruning_seconds);
  EXPECT_GT(fitted.pruning_seconds, fitted.train_seconds);

  // The registered method reports the trained model's dev result and keep rates.
  const RetrainMethod* method = find_retrain_method("ebert");
  ASSERT_NE(method, nullptr);
  Params given;
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"epochs", "3"},
                                   {"batch_size", "8"},
                                   {"lr", "1e-3"},
                                   {"evals_per_epoch", "2"},
                                   {"save_every", "5"}}) {
    given.set(key, value);
  }
  RetrainInput input;
  input.teacher = teacher.get();
  input.data = data->data;
  input.params = retrain_params(*method, given);
  input.seed = 7;
  input.dir = testing::temp_dir("ebert-method");
  input.log = &log;
  const RetrainOutcome outcome = method->prune(input, 0.5);
  EXPECT_EQ(outcome.label, "EBERT");
  EXPECT_EQ(outcome.model, nullptr);
  EXPECT_DOUBLE_EQ(outcome.metrics.at("accuracy"), whole.final.metrics.at("accuracy"));
  EXPECT_NEAR(outcome.flops_after, whole.final.flops / 1e9, 1e-15);
  EXPECT_EQ(outcome.arrays.at("gate_head_keep").sizes(), torch::IntArrayRef({2, 4}));
}

}  // namespace
}  // namespace kprune
