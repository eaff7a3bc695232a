// K-prune: REF against the official implementation (kprune-oracle fixtures), the invariants
// 6-13 of algorithms.md section 9 on tiny float64 models, and where REF and CLEAN differ (4.9).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "framework/model/checkpoint.h"
#include "framework/model/flops.h"
#include "framework/model/safetensors.h"
#include "framework/prune/kprune.h"
#include "framework/prune/pruner.h"
#include "framework/util/error.h"
#include "framework/util/files.h"
#include "framework/util/params.h"
#include "tests/model_fixtures.h"
#include "tests/test_support.h"

namespace kprune {
namespace {

using testing::batch_from_json;
using testing::json_to_tensor;

// Fixture tolerance: |a - b| <= abs + rel·max|b| per element, "relative" to the tensor's scale.
// Element-wise relative error is meaningless for the KPWT weights: the reference solves float32
// normal equations whose condition number is ~5e3 on these models, so its own solution carries
// ~cond·eps_f32 ≈ 3e-4 of the weights' scale as noise (a float64 solve of the same features
// lands at the same distance from it); near-zero entries then differ by far more than 1e-3 of
// themselves.
void expect_close(const torch::Tensor& actual, const torch::Tensor& expected, double rel,
                  double abs, const std::string& what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  auto a = actual.to(torch::kDouble).cpu();
  auto b = expected.to(torch::kDouble).cpu();
  if (b.numel() == 0) return;
  const double scale = b.abs().max().item<double>();
  EXPECT_LE((a - b).abs().max().item<double>(), abs + rel * scale)
      << what << ": max |b| " << scale << ", relative Frobenius error "
      << ((a - b).norm() / b.norm()).item<double>();
}

// Scores: element-wise relative (README: rel 1e-4); they are far from their float noise.
void expect_relative(const torch::Tensor& actual, const torch::Tensor& expected, double rel,
                     const std::string& what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  auto a = actual.to(torch::kDouble).cpu();
  auto b = expected.to(torch::kDouble).cpu();
  EXPECT_LE(((a - b).abs() - rel * b.abs()).max().item<double>(), 0.0)
      << what << ": max |diff| " << (a - b).abs().max().item<double>();
}

struct OracleCase {
  std::string folder, run;
};

std::string case_name(const ::testing::TestParamInfo<OracleCase>& info) {
  std::string name = info.param.folder + "_" + info.param.run;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

class KpruneOracle : public ::testing::TestWithParam<OracleCase> {};

TEST_P(KpruneOracle, RefReproducesTheOfficialRun) {
  const std::string dir = testing::shared_path("fixtures/kprune-oracle/" + GetParam().folder);
  const auto oracle = nlohmann::json::parse(read_file(dir + "/oracle-" + GetParam().run + ".json"));
  auto model = load_checkpoint(dir);
  std::vector<Batch> batches;
  for (const auto& line : read_json_lines(dir + "/batches.jsonl")) {
    batches.push_back(batch_from_json(line));
  }
  const auto& args = oracle.at("args");
  KpruneOptions options;
  options.flops_reduction = args.at("constraint").get<double>();
  options.flops_seq_len = args.at("seq_len").get<double>();
  options.lam_pred = args.at("lam_pred").get<double>();
  options.lam_rep = args.at("lam_rep").get<double>();
  options.mu = args.at("mu").get<double>();
  options.temperature = args.at("T").get<double>();
  options.tuning = args.at("tuning").get<int>() != 0;
  options.mode = SelectionMode::ref;
  options.head_kind = model->config().head_kind;
  std::vector<KpruneStep> steps;
  const PruneReport report = run_kprune(*model, batches, options, &steps);

  // Masks, per step and final.
  const auto& expected_steps = oracle.at("steps");
  ASSERT_EQ(steps.size(), expected_steps.size());
  for (size_t s = 0; s < steps.size(); ++s) {
    const auto& expected = expected_steps[s];
    std::vector<bool> expected_keep;
    for (int v : expected.at("mask")) expected_keep.push_back(v != 0);
    EXPECT_EQ(steps[s].keep, expected_keep) << "step " << s;
    EXPECT_FLOAT_EQ(static_cast<float>(steps[s].budget_in),
                    static_cast<float>(expected.at("max_flops_in").get<double>()))
        << "step " << s;
    const std::string expected_tuning = expected.at("tuning");
    EXPECT_EQ(steps[s].tuning.rfind("applied", 0) == 0, expected_tuning == "applied")
        << "step " << s << ": " << steps[s].tuning << " vs " << expected_tuning;
    expect_relative(steps[s].head_scores,
                    json_to_tensor(expected.at("head_scores"), torch::kDouble), 1e-4,
                    "head scores step " + std::to_string(s));
    expect_relative(steps[s].neuron_scores,
                    json_to_tensor(expected.at("neuron_scores"), torch::kDouble), 1e-4,
                    "neuron scores step " + std::to_string(s));
  }
  EXPECT_EQ(nlohmann::json(report.head_masks), oracle.at("head_masks"));
  EXPECT_EQ(nlohmann::json(report.neuron_masks), oracle.at("neuron_masks"));
  EXPECT_NEAR(report.flops_after, oracle.at("flops").at("pruned_flops").get<double>(), 1e-12);

  // Pruned weights, by HF name, and the pruned model's outputs.
  const auto expected_tensors =
      load_safetensors(dir + "/pruned-" + GetParam().run + ".safetensors");
  const auto actual_tensors = hf_state_dict(*model);
  ASSERT_EQ(actual_tensors.size(), expected_tensors.size());
  for (const auto& [name, expected] : expected_tensors) {
    ASSERT_TRUE(actual_tensors.count(name)) << name;
    expect_close(actual_tensors.at(name), expected, 1e-3, 1e-5, name);
  }
  torch::NoGradGuard no_grad;
  const auto& outputs = oracle.at("pruned_outputs");
  for (size_t b = 0; b < batches.size(); ++b) {
    const ModelOutput output = model->forward(batches[b]);
    for (const auto& [key, value] : outputs[b].items()) {
      const torch::Tensor actual = key == "logits"         ? output.logits
                                   : key == "start_logits" ? output.start_logits
                                                           : output.end_logits;
      expect_close(actual, json_to_tensor(value, torch::kDouble), 1e-3, 1e-5,
                   key + " batch " + std::to_string(b));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, KpruneOracle,
                         ::testing::Values(OracleCase{"cls2", "c0.3"}, OracleCase{"cls2", "c0.5"},
                                           OracleCase{"cls2", "c0.7"}, OracleCase{"cls2", "c0.9"},
                                           OracleCase{"cls2", "c0.5-notune"},
                                           OracleCase{"reg", "c0.5"}, OracleCase{"qa", "c0.5"}),
                         case_name);

// ---- Invariants of algorithms.md section 9 on tiny float64 models ----

std::vector<Batch> tiny_batches(uint64_t seed) {
  std::vector<Batch> batches;
  for (uint64_t b = 0; b < 4; ++b) {
    batches.push_back(testing::tiny_batch({12, 7, 10, 3, 9}, 12, seed * 100 + b));
  }
  return batches;
}

KpruneOptions tiny_options(double reduction, SelectionMode mode, HeadKind head) {
  KpruneOptions options;
  options.flops_reduction = reduction;
  options.flops_seq_len = 10;
  options.mu = 4;  // = d_h of the tiny model
  options.lam_rep = 1;
  options.mode = mode;
  options.head_kind = head;
  return options;
}

std::vector<std::vector<torch::Tensor>> all_outputs(const EncoderModel& model,
                                                    const std::vector<Batch>& batches) {
  torch::NoGradGuard no_grad;
  std::vector<std::vector<torch::Tensor>> outputs;
  for (const Batch& batch : batches) {
    const ModelOutput output = model.forward(batch);
    outputs.push_back({output.logits, output.start_logits, output.end_logits});
  }
  return outputs;
}

double masks_flops(const PruneReport& report, const EncoderConfig& config, double seq_len) {
  double kept_heads = 0, kept_neurons = 0;
  for (const auto& row : report.head_masks)
    kept_heads += std::accumulate(row.begin(), row.end(), 0.0);
  for (const auto& row : report.neuron_masks) {
    kept_neurons += std::accumulate(row.begin(), row.end(), 0.0);
  }
  return (kept_heads * head_flops(config, seq_len) + kept_neurons * neuron_flops(config, seq_len)) /
         1e9;
}

TEST(KpruneInvariants, BudgetIsMetAndPhysicalFlopsEqualMaskFlops) {  // invariant 6
  const auto config = testing::tiny_config();
  const auto batches = tiny_batches(1);
  for (double reduction : {0.4, 0.5, 0.6, 0.7, 0.8}) {
    for (auto mode : {SelectionMode::ref, SelectionMode::clean}) {
      for (bool oneshot : {false, true}) {
        auto model = testing::tiny_model(config, 7);
        auto options = tiny_options(reduction, mode, HeadKind::classification);
        options.oneshot = oneshot;
        const PruneReport report = run_kprune(*model, batches, options);
        const double budget = (1 - reduction) * report.flops_before;
        if (mode == SelectionMode::ref) {
          EXPECT_LT(report.flops_after, budget) << reduction;
        } else {
          EXPECT_LE(report.flops_after, budget * (1 + 1e-12)) << reduction;
        }
        EXPECT_NEAR(report.flops_after, masks_flops(report, config, 10), 1e-15);
        EXPECT_NEAR(report.flops_after, model_flops(model->config(), 10) / 1e9, 1e-15);
      }
    }
  }
}

TEST(KpruneInvariants, CleanWithoutReductionPrunesNothing) {  // invariants 7 and 8
  const auto config = testing::tiny_config();
  const auto batches = tiny_batches(2);
  auto original = testing::tiny_model(config, 3);
  const auto expected = all_outputs(*original, batches);

  auto untuned = original->clone();
  auto options = tiny_options(0.0, SelectionMode::clean, HeadKind::classification);
  options.tuning = false;
  const PruneReport report = run_kprune(*untuned, batches, options);
  EXPECT_FALSE(untuned->config().is_pruned());
  EXPECT_DOUBLE_EQ(report.flops_after, report.flops_before);
  const auto outputs = all_outputs(*untuned, batches);
  for (size_t b = 0; b < batches.size(); ++b)
    EXPECT_TRUE(torch::equal(outputs[b][0], expected[b][0]));

  // Tuned: nothing pruned and no upstream change, so KPWT gives back the original weights.
  auto tuned = original->clone();
  options.tuning = true;
  const PruneReport tuned_report = run_kprune(*tuned, batches, options);
  EXPECT_TRUE(tuned_report.fallbacks.empty());
  for (int64_t s = 0; s < tuned->num_sublayers(); ++s) {
    EXPECT_EQ(tuned_report.sublayers[s].tuning, "applied");
    const auto& before = original->sublayer(s).out_weight();
    const auto& after = tuned->sublayer(s).out_weight();
    EXPECT_LT(((after - before).norm() / before.norm()).item<double>(), 1e-8) << "sublayer " << s;
  }
}

TEST(KpruneInvariants, KpwtMinimisesTheReconstructionOfTheTeacherSum) {  // invariant 9
  const auto config = testing::tiny_config();
  const auto batches = tiny_batches(3);
  auto original = testing::tiny_model(config, 5);
  // The first reduction whose decision on sublayer 0 is partial (some heads kept, some pruned).
  std::shared_ptr<EncoderModel> tuned, untuned;
  for (double reduction : {0.1, 0.2, 0.3, 0.4, 0.5}) {
    tuned = original->clone();
    untuned = original->clone();
    auto options = tiny_options(reduction, SelectionMode::clean, HeadKind::classification);
    run_kprune(*tuned, batches, options);
    options.tuning = false;
    run_kprune(*untuned, batches, options);
    const int64_t kept = tuned->sublayer(0).num_units();
    if (kept > 0 && kept < config.num_heads) break;
  }
  // Sublayer 0 sees the teacher's input in both, and its mask does not depend on tuning.
  ASSERT_EQ(tuned->sublayer(0).num_units(), untuned->sublayer(0).num_units());
  ASSERT_GT(tuned->sublayer(0).num_units(), 0);
  ASSERT_LT(tuned->sublayer(0).num_units(), config.num_heads);
  torch::NoGradGuard no_grad;
  double tuned_error = 0, untuned_error = 0;
  torch::Tensor gradient, scale;
  for (const Batch& batch : batches) {
    const auto x = original->embed(batch);
    const auto bias = original->attention_bias(batch);
    const auto real = batch.attention_mask.to(torch::kBool);
    SublayerProbe teacher, after, before;
    original->sublayer(0).forward(x, bias, {}, &teacher);
    tuned->sublayer(0).forward(x, bias, {}, &after);
    untuned->sublayer(0).forward(x, bias, {}, &before);
    const auto residual = (after.pre_ln - teacher.pre_ln).index({real});
    tuned_error += residual.pow(2).sum().item<double>();
    untuned_error += (before.pre_ln - teacher.pre_ln).index({real}).pow(2).sum().item<double>();
    const auto features = after.features.index({real});
    const auto g = features.t().matmul(residual);  // gradient of the LS objective / 2
    gradient = gradient.defined() ? gradient + g : g;
  }
  EXPECT_LT(tuned_error, untuned_error);
  EXPECT_LT(gradient.abs().max().item<double>(), 1e-9 * tuned_error + 1e-12);
}

TEST(KpruneInvariants, RepresentationalScoresAggregateColumns) {  // invariant 11
  const auto config = testing::tiny_config();
  const auto batches = tiny_batches(4);
  auto model = testing::tiny_model(config, 9);
  auto original = model->clone();
  auto options = tiny_options(0.5, SelectionMode::clean, HeadKind::classification);
  options.lam_pred = 0;
  options.lam_rep = 0.5;
  std::vector<KpruneStep> steps;
  run_kprune(*model, batches, options, &steps);
  // Independent: Σ_t a_tc² · mean_r W[r,c]², summed over a head's d_h columns (μ = d_h), / N_tok.
  torch::NoGradGuard no_grad;
  torch::Tensor mha_columns = torch::zeros({config.num_heads * config.head_dim}, torch::kDouble);
  torch::Tensor ffn_columns = torch::zeros({config.intermediate_size}, torch::kDouble);
  double tokens = 0;
  for (const Batch& batch : batches) {
    std::vector<SublayerProbe> probes;
    ForwardOptions forward;
    forward.probes = &probes;
    original->forward(batch, forward);
    const auto real = batch.attention_mask.to(torch::kBool);
    mha_columns += probes[0].features.index({real}).pow(2).sum(0);
    ffn_columns += probes[1].features.index({real}).pow(2).sum(0);
    tokens += batch.attention_mask.sum().item<double>();
  }
  mha_columns *= original->sublayer(0).out_weight().pow(2).mean(0);
  ffn_columns *= original->sublayer(1).out_weight().pow(2).mean(0);
  const auto expected_heads = mha_columns.view({config.num_heads, config.head_dim}).sum(1) *
                              options.lam_rep / tokens / (head_flops(config, 10) / 1e9);
  const auto expected_neurons =
      ffn_columns * options.lam_rep / tokens / (neuron_flops(config, 10) / 1e9);
  EXPECT_TRUE(torch::allclose(steps[0].head_scores[0], expected_heads, 1e-12, 0));
  EXPECT_TRUE(torch::allclose(steps[0].neuron_scores[0], expected_neurons, 1e-12, 0));
}

TEST(KpruneInvariants, PredictiveKnowledgeVanishesAtIterationZero) {  // invariant 12, 4.9 Q1/Q3
  for (auto head : {HeadKind::classification, HeadKind::question_answering, HeadKind::regression}) {
    const auto config = testing::tiny_config("bert", head);
    const auto batches = tiny_batches(5);
    for (auto mode : {SelectionMode::ref, SelectionMode::clean}) {
      auto model = testing::tiny_model(config, 11);
      auto options = tiny_options(0.5, mode, head);
      options.lam_rep = 0;
      std::vector<KpruneStep> steps;
      run_kprune(*model, batches, options, &steps);
      const double step0 = std::max(steps[0].head_scores.abs().max().item<double>(),
                                    steps[0].neuron_scores.abs().max().item<double>());
      if (head == HeadKind::regression && mode == SelectionMode::ref) {
        EXPECT_GT(step0, 1e-6);  // the broadcasting B×B MSE is not zero at the teacher (Q3)
      } else {
        // Float noise only (~1e-30 here); real predictive scores of these models are ~1e-3..1.
        EXPECT_LT(step0, 1e-20) << to_string(head) << " " << to_string(mode);
      }
      if (head == HeadKind::question_answering) {
        // Once step 0 has pruned something, the student differs and the gradients are real.
        ASSERT_NE(steps[0].keep, std::vector<bool>(steps[0].keep.size(), true));
        EXPECT_GT(steps[1].neuron_scores.abs().max().item<double>(), 1e-3);
      }
    }
  }
}

// Invariant 13 on a hand-computed 2-class example, T = 2: row 0 has z = (1, 0), p = (0.8, 0.2),
// so q = softmax(z / 2) = (0.6224593312, 0.3775406688) and KL(p‖q) = 0.0736745606; row 1 has
// q = p = (0.5, 0.5), KL 0. Batchmean times T²: 4 · 0.0736745606 / 2. (The reverse direction
// KL(q‖p) would give 0.1673574660.) Gradient: ∂ℓ/∂z_0c = T / B · (q_c − p_c).
TEST(KpruneInvariants, DistillationLossMatchesAHandComputedExample) {
  const auto logits =
      torch::tensor({1.0, 0.0, 0.0, 0.0}, torch::kFloat64).reshape({2, 2}).requires_grad_(true);
  const auto teacher = torch::tensor({0.8, 0.2, 0.5, 0.5}, torch::kFloat64).reshape({2, 2});
  const auto loss = distillation_kl(logits, teacher, 2.0);
  EXPECT_NEAR(loss.item<double>(), 0.14734912128383754, 1e-15);
  const auto grad = torch::autograd::grad({loss}, {logits})[0];
  // Raising the under-predicted class lowers the loss: negative gradient on z_00, positive on z_01.
  EXPECT_NEAR(grad[0][0].item<double>(), -0.17754066879814545, 1e-15);
  EXPECT_NEAR(grad[0][1].item<double>(), 0.17754066879814545, 1e-15);
  EXPECT_NEAR(grad[1].abs().max().item<double>(), 0.0, 1e-15);  // teacher = student
}

// 4.9 Q6: REF does not tune an FFN sublayer that keeps every neuron (an MHA that keeps every
// head is still tuned); CLEAN tunes both. For classification REF and CLEAN otherwise make the
// same decisions here (no ties, budget not on a float32 boundary), so up to the first such FFN
// both runs agree on masks and tuned weights, and at it REF leaves the weight as it was.
TEST(KpruneRefQuirks, FfnKeepingEveryNeuronIsTunedOnlyInClean) {
  const auto config = testing::tiny_config();
  const auto batches = tiny_batches(8);
  // A case (found by search) whose FFN 0 keeps every neuron in REF.
  auto original = testing::tiny_model(config, 20);
  const double reduction = 0.1;
  auto ref = original->clone(), clean = original->clone();
  std::vector<KpruneStep> ref_steps, clean_steps;
  run_kprune(*ref, batches, tiny_options(reduction, SelectionMode::ref, HeadKind::classification),
             &ref_steps);
  run_kprune(*clean, batches,
             tiny_options(reduction, SelectionMode::clean, HeadKind::classification), &clean_steps);
  // Every REF decision follows Q6.
  for (const KpruneStep& step : ref_steps) {
    const bool all = std::all_of(step.keep.begin(), step.keep.end(), [](bool k) { return k; });
    const bool none = std::none_of(step.keep.begin(), step.keep.end(), [](bool k) { return k; });
    const std::string expected = none                       ? "skipped: sublayer removed"
                                 : all && step.sublayer % 2 ? "skipped: no neuron pruned"
                                                            : "applied";
    EXPECT_EQ(step.tuning, expected) << "sublayer " << step.sublayer;
  }
  const int64_t ffn = 1;
  ASSERT_EQ(ref_steps[ffn].tuning, "skipped: no neuron pruned");
  ASSERT_EQ(ref_steps[0].keep, clean_steps[0].keep);
  ASSERT_EQ(ref_steps[ffn].keep, clean_steps[ffn].keep);
  const auto a = ref->sublayer(0).out_weight(), b = clean->sublayer(0).out_weight();
  EXPECT_LT(((a - b).norm() / b.norm()).item<double>(), 1e-9);
  EXPECT_EQ(clean_steps[ffn].tuning, "applied");
  EXPECT_TRUE(torch::equal(ref->sublayer(ffn).out_weight(), original->sublayer(ffn).out_weight()));
  // The tuned MHA 0 moved the FFN's input, so CLEAN's least squares moves its weight.
  const auto moved = clean->sublayer(ffn).out_weight() - original->sublayer(ffn).out_weight();
  EXPECT_GT(moved.norm().item<double>(), 1e-6);
}

TEST(KpruneInvariants, OneShotIsOneGlobalSelection) {
  const auto config = testing::tiny_config();
  const auto batches = tiny_batches(6);
  auto model = testing::tiny_model(config, 13);
  auto options = tiny_options(0.6, SelectionMode::clean, HeadKind::classification);
  options.oneshot = true;
  options.tuning = false;
  std::vector<KpruneStep> steps;
  const PruneReport report = run_kprune(*model, batches, options, &steps);
  std::vector<double> scores, flops;
  const double f_head = head_flops(config, 10) / 1e9, f_neuron = neuron_flops(config, 10) / 1e9;
  for (int64_t l = 0; l < config.num_layers; ++l) {
    for (int64_t h = 0; h < config.num_heads; ++h) {
      scores.push_back(steps[0].head_scores[l][h].item<double>());
      flops.push_back(f_head);
    }
  }
  for (int64_t l = 0; l < config.num_layers; ++l) {
    for (int64_t j = 0; j < config.intermediate_size; ++j) {
      scores.push_back(steps[0].neuron_scores[l][j].item<double>());
      flops.push_back(f_neuron);
    }
  }
  const auto keep = select_units(scores, flops, 0.4 * report.flops_before, SelectionMode::clean);
  std::vector<bool> actual;
  for (const auto& row : report.head_masks) {
    for (float v : row) actual.push_back(v != 0);
  }
  for (const auto& row : report.neuron_masks) {
    for (float v : row) actual.push_back(v != 0);
  }
  EXPECT_EQ(actual, keep);
}

// Measurement in chunks of one sequence (chunk_tokens=1) against whole batches: the same
// scores and masks for every head kind; REF regression couples the batch and never chunks.
TEST(KpruneInvariants, ChunkedMeasurementEqualsWholeBatches) {
  const std::vector<std::pair<HeadKind, SelectionMode>> cases = {
      {HeadKind::classification, SelectionMode::clean},
      {HeadKind::classification, SelectionMode::ref},
      {HeadKind::regression, SelectionMode::clean},
      {HeadKind::regression, SelectionMode::ref},
      {HeadKind::question_answering, SelectionMode::clean}};
  for (const auto& [head, mode] : cases) {
    const auto config = testing::tiny_config("bert", head);
    const auto batches = tiny_batches(9);
    std::vector<KpruneStep> whole_steps, chunked_steps;
    auto whole = testing::tiny_model(config, 19);
    auto chunked = testing::tiny_model(config, 19);
    auto options = tiny_options(0.6, mode, head);
    options.chunk_tokens = 1 << 20;
    const PruneReport whole_report = run_kprune(*whole, batches, options, &whole_steps);
    options.chunk_tokens = 1;
    const PruneReport chunked_report = run_kprune(*chunked, batches, options, &chunked_steps);
    EXPECT_EQ(whole_report.head_masks, chunked_report.head_masks) << to_string(head);
    EXPECT_EQ(whole_report.neuron_masks, chunked_report.neuron_masks) << to_string(head);
    ASSERT_EQ(whole_steps.size(), chunked_steps.size());
    for (size_t i = 0; i < whole_steps.size(); ++i) {
      EXPECT_TRUE(
          torch::allclose(whole_steps[i].head_scores, chunked_steps[i].head_scores, 1e-9, 1e-15))
          << to_string(head) << " step " << i;
      EXPECT_TRUE(torch::allclose(whole_steps[i].neuron_scores, chunked_steps[i].neuron_scores,
                                  1e-9, 1e-15))
          << to_string(head) << " step " << i;
    }
    const auto a = all_outputs(*whole, batches), b = all_outputs(*chunked, batches);
    for (size_t i = 0; i < a.size(); ++i) {
      for (size_t j = 0; j < a[i].size(); ++j) {
        if (a[i][j].defined()) {
          EXPECT_TRUE(torch::allclose(a[i][j], b[i][j], 1e-9, 1e-12));
        }
      }
    }
  }
  EXPECT_THROW(KpruneOptions::from_params(Params::parse({"chunk_tokens=0"})), Error);
}

// weighting=normalized on a hand computation at step 0 (the student is the teacher, so only the
// representational term counts): a column's Σ_t a² · mean_r W² divided by Σ_tokens mean_d z² of
// its sublayer's LayerNorm input z, summed over a head's columns (μ = d_h), then divided by the
// sum of that over every unit of the model, times λ_rep, over the unit's FLOPs.
TEST(KpruneWeighting, NormalizedScoresAreSharesOfLayerNormRelativeKnowledge) {
  const auto config = testing::tiny_config();
  const auto batches = tiny_batches(4);
  auto model = testing::tiny_model(config, 9);
  auto original = model->clone();
  auto options = tiny_options(0.5, SelectionMode::clean, HeadKind::classification);
  options.lam_rep = 0.5;
  options.weighting = KnowledgeWeighting::normalized;
  std::vector<KpruneStep> steps;
  run_kprune(*model, batches, options, &steps);
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> columns(4);
  std::vector<double> pre_ln_square(4, 0.0);
  for (const Batch& batch : batches) {
    std::vector<SublayerProbe> probes;
    ForwardOptions forward;
    forward.probes = &probes;
    original->forward(batch, forward);
    const auto real = batch.attention_mask.to(torch::kBool);
    for (int64_t t = 0; t < 4; ++t) {
      const auto squares = probes[t].features.index({real}).pow(2).sum(0);
      columns[t] = columns[t].defined() ? columns[t] + squares : squares;
      for (int64_t i = 0; i < batch.size(); ++i) {
        for (int64_t j = 0; j < batch.attention_mask.size(1); ++j) {
          if (batch.attention_mask[i][j].item<int64_t>() == 0) continue;
          pre_ln_square[t] += probes[t].pre_ln[i][j].pow(2).sum().item<double>() / 8;
        }
      }
    }
  }
  std::vector<torch::Tensor> units(4);
  double total = 0;
  for (int64_t t = 0; t < 4; ++t) {
    auto knowledge =
        columns[t] * original->sublayer(t).out_weight().pow(2).mean(0) / pre_ln_square[t];
    units[t] = t % 2 == 0 ? knowledge.view({config.num_heads, config.head_dim}).sum(1) : knowledge;
    total += units[t].sum().item<double>();
  }
  EXPECT_GT(std::abs(pre_ln_square[0] / pre_ln_square[1] - 1), 0.05);  // differs from paper
  for (int64_t layer = 0; layer < 2; ++layer) {
    const auto heads = units[2 * layer] * 0.5 / total / (head_flops(config, 10) / 1e9);
    const auto neurons = units[2 * layer + 1] * 0.5 / total / (neuron_flops(config, 10) / 1e9);
    EXPECT_TRUE(torch::allclose(steps[0].head_scores[layer], heads, 1e-12, 0)) << layer;
    EXPECT_TRUE(torch::allclose(steps[0].neuron_scores[layer], neurons, 1e-12, 0)) << layer;
  }
}

// Once step 0 has removed a unit, each term's score·FLOPs sums to its λ over the candidates.
TEST(KpruneWeighting, NormalizedTermsSumToTheirLambdas) {
  const auto config = testing::tiny_config();
  const auto batches = tiny_batches(2);
  auto model = testing::tiny_model(config, 5);
  auto options = tiny_options(0.5, SelectionMode::clean, HeadKind::classification);
  options.lam_pred = 0.3;
  options.lam_rep = 2;
  options.weighting = KnowledgeWeighting::normalized;
  std::vector<KpruneStep> steps;
  const PruneReport report = run_kprune(*model, batches, options, &steps);
  ASSERT_NE(steps[0].keep, std::vector<bool>(steps[0].keep.size(), true));
  const double f_head = head_flops(config, 10) / 1e9, f_neuron = neuron_flops(config, 10) / 1e9;
  auto flops_weighted = [&](const KpruneStep& step) {
    return step.head_scores.sum().item<double>() * f_head +
           step.neuron_scores.sum().item<double>() * f_neuron;
  };
  EXPECT_NEAR(flops_weighted(steps[0]), 2.0, 1e-12);  // step 0: representational only
  EXPECT_NEAR(flops_weighted(steps[1]), 2.3, 1e-12);
  const auto& record = report.details.at("knowledge").at(1).at("sublayers");
  double pred_share = 0, rep_share = 0;
  for (const auto& sublayer : record) {
    const double weight =
        sublayer.at("units").get<double>() * (sublayer.at("kind") == "heads" ? f_head : f_neuron);
    pred_share += sublayer.at("score_pred").get<double>() * weight;
    rep_share += sublayer.at("score_rep").get<double>() * weight;
  }
  EXPECT_NEAR(pred_share, 0.3, 1e-12);
  EXPECT_NEAR(rep_share, 2.0, 1e-12);
}

// Heads whose output weights are 1e-3 of the neurons' carry ~1e-6 of their representational
// knowledge: both weightings remove every head at step 0 (nothing clamps a head in),
// and the diagnosis record agrees with the scores it summarises.
TEST(KpruneWeighting, HeadsFarBelowTheNeuronsAreAllRemovedAndTheRecordSaysWhy) {
  const auto config = testing::tiny_config();
  const auto batches = tiny_batches(3);
  for (auto weighting : {KnowledgeWeighting::paper, KnowledgeWeighting::normalized}) {
    auto model = testing::tiny_model(config, 21);
    {
      torch::NoGradGuard no_grad;
      for (int64_t layer = 0; layer < config.num_layers; ++layer) {
        Sublayer& mha = model->sublayer(2 * layer);
        mha.set_out_weight(mha.out_weight() * 1e-3);
      }
    }
    // Heads are 81 % of the tiny model's FLOPs: at 85 % reduction the budget fits neurons only.
    auto options = tiny_options(0.85, SelectionMode::clean, HeadKind::classification);
    options.lam_pred = 0;
    options.weighting = weighting;
    std::vector<KpruneStep> steps;
    const PruneReport report = run_kprune(*model, batches, options, &steps);
    EXPECT_EQ(report.sublayers[0].kept, 0) << to_string(weighting);
    EXPECT_LT(steps[0].head_scores.max().item<double>(),
              steps[0].neuron_scores.min().item<double>());
    const auto& first = report.details.at("knowledge").at(0);
    EXPECT_EQ(first.at("step"), 0);
    const auto& heads = first.at("sublayers").at(0);
    const auto& neurons = first.at("sublayers").at(1);
    EXPECT_EQ(heads.at("kind"), "heads");
    EXPECT_EQ(heads.at("kept"), 0);
    EXPECT_GT(neurons.at("kept").get<int64_t>(), 0);
    EXPECT_NEAR(heads.at("score_rep").get<double>(), steps[0].head_scores[0].mean().item<double>(),
                1e-12 * neurons.at("score_rep").get<double>());
    EXPECT_NEAR(neurons.at("score_rep").get<double>(),
                steps[0].neuron_scores[0].mean().item<double>(),
                1e-9 * neurons.at("score_rep").get<double>());
    EXPECT_EQ(heads.at("score_pred").get<double>(), 0.0);
    EXPECT_LT(heads.at("weight_square").get<double>(),
              1e-5 * neurons.at("weight_square").get<double>());
  }
}

TEST(KpruneInvariants, RunsThroughTheRegistry) {
  const auto config = testing::tiny_config();
  const auto batches = tiny_batches(7);
  auto model = testing::tiny_model(config, 17);
  PruneInput input;
  input.sample_batches = &batches;
  input.flops_reduction = 0.5;
  input.flops_seq_len = 10;
  input.params = Params::parse({"mode=ref", "mu=4"});
  const PruneReport report = run_pruner("kprune", *model, input);
  EXPECT_EQ(report.pruner, "kprune");
  EXPECT_LT(report.flops_after, 0.5 * report.flops_before);
  ASSERT_EQ(report.sublayers.size(), 4u);
  EXPECT_EQ(report.details.at("weighting"), "paper");
  input.params = Params::parse({"lambda=1"});
  EXPECT_THROW(run_pruner("kprune", *model, input), Error);
  input.params = Params::parse({"mode=ref", "weighting=normalized"});  // REF is the paper's
  EXPECT_THROW(run_pruner("kprune", *model, input), Error);
  input.params = Params::parse({"weighting=relative"});
  EXPECT_THROW(run_pruner("kprune", *model, input), Error);
  auto qa_model =
      testing::tiny_model(testing::tiny_config("bert", HeadKind::question_answering), 1);
  input.params = Params();
  EXPECT_THROW(run_pruner("kprune", *qa_model, input), Error);  // head does not match the task
}

}  // namespace
}  // namespace kprune
