// DynaBERT (retraining-baselines.md 1 and the invariants of 5): importance identities, the
// cumulative-gradient quirk, rewiring, distillation losses, gradient accumulation over
// sub-networks, the frozen teacher, sub-network choice, and a whole training that resumes.
#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>
#include <sstream>

#include "framework/model/checkpoint.h"
#include "framework/model/losses.h"
#include "framework/retrain/distillation.h"
#include "framework/retrain/dynabert.h"
#include "framework/retrain/importance.h"
#include "framework/retrain/retrain_method.h"
#include "framework/util/error.h"
#include "tests/model_fixtures.h"
#include "tests/retrain_fixtures.h"
#include "tests/test_support.h"

namespace kprune {
namespace {

using testing::tiny_batch;
using testing::tiny_config;
using testing::tiny_model;

Batch labelled_batch(uint64_t seed) {
  Batch batch = tiny_batch({6, 4, 7, 5}, 7, seed);
  torch::manual_seed(seed + 100);
  batch.labels = torch::randint(0, 3, {4}, torch::kInt64);
  return batch;
}

// Signed mask gradients of one batch: per layer the head mask, the FFN activation mask (output
// side) and pre-activation mask (input side).
struct MaskGradients {
  std::vector<torch::Tensor> heads, output_side, input_side;
};

MaskGradients mask_gradients(EncoderModel& model, const Batch& batch) {
  std::vector<torch::Tensor> unit(4), pre(4);
  for (int64_t s = 0; s < 4; ++s) {
    unit[s] = torch::ones({model.sublayer(s).num_units()}, torch::kFloat64).requires_grad_();
    if (s % 2 == 1) {
      pre[s] = torch::ones({model.sublayer(s).num_units()}, torch::kFloat64).requires_grad_();
    }
  }
  ForwardOptions forward;
  forward.unit_masks = &unit;
  forward.pre_activation_masks = &pre;
  const torch::Tensor loss =
      supervised_loss(model.forward(batch, forward), batch, HeadKind::classification);
  const auto g =
      torch::autograd::grad({loss}, {unit[0], unit[1], pre[1], unit[2], unit[3], pre[3]});
  return {{g[0], g[3]}, {g[1], g[4]}, {g[2], g[5]}};
}

// The identities of 1.2 (5.4): Σ_r W2[r,j] ∂W2[r,j] = ∂/∂m_j and Σ_i W1[j,i] ∂W1[j,i] + b1[j]
// ∂b1[j] = ∂/∂n_j; the head mask gradient matches finite differences; unit_importance of one
// batch is |∂/∂ξ| and |∂/∂n| + |∂/∂m|.
TEST(DynabertImportance, MaskGradientsEqualTheParameterGradientForms) {
  const auto model = tiny_model(tiny_config(), 21);
  const Batch batch = labelled_batch(3);
  const MaskGradients masks = mask_gradients(*model, batch);

  model->zero_grad();
  supervised_loss(model->forward(batch), batch, HeadKind::classification).backward();
  for (int64_t layer = 0; layer < 2; ++layer) {
    const Sublayer& ffn = model->sublayer(2 * layer + 1);
    const torch::Tensor w2 = ffn.out_weight(), w1 = ffn.in_weight(), b1 = ffn.in_bias();
    const torch::Tensor output_form = (w2 * w2.grad()).sum(0);
    const torch::Tensor input_form = (w1 * w1.grad()).sum(1) + b1 * b1.grad();
    EXPECT_TRUE(torch::allclose(output_form, masks.output_side[layer], 1e-10, 1e-12)) << layer;
    EXPECT_TRUE(torch::allclose(input_form, masks.input_side[layer], 1e-10, 1e-12)) << layer;
  }

  // Finite differences of the head mask, layer 1, head 0.
  const double epsilon = 1e-6;
  auto loss_with = [&](double value) {
    std::vector<torch::Tensor> unit(4);
    unit[2] = torch::tensor({value, 1.0}, torch::kFloat64);
    ForwardOptions forward;
    forward.unit_masks = &unit;
    torch::NoGradGuard no_grad;
    return supervised_loss(model->forward(batch, forward), batch, HeadKind::classification)
        .item<double>();
  };
  const double numeric = (loss_with(1 + epsilon) - loss_with(1 - epsilon)) / (2 * epsilon);
  EXPECT_NEAR(numeric, masks.heads[1][0].item<double>(), 1e-6);

  const UnitImportance importance =
      unit_importance(*model, {batch}, HeadKind::classification, ImportanceGradient::per_batch);
  for (int64_t layer = 0; layer < 2; ++layer) {
    EXPECT_TRUE(torch::allclose(importance.heads[layer], masks.heads[layer].abs(), 1e-12, 1e-14));
    EXPECT_TRUE(torch::allclose(importance.neurons[layer],
                                masks.output_side[layer].abs() + masks.input_side[layer].abs(),
                                1e-12, 1e-14));
  }
}

// REF quirk D1 (5.5): with two batches, cumulative I = |g1| + |g1 + g2|, per batch |g1| + |g2|.
TEST(DynabertImportance, CumulativeGradientsAreTheReferenceQuirk) {
  const auto model = tiny_model(tiny_config(), 22);
  const Batch first = labelled_batch(5), second = labelled_batch(6);
  const MaskGradients g1 = mask_gradients(*model, first), g2 = mask_gradients(*model, second);
  const UnitImportance cumulative = unit_importance(
      *model, {first, second}, HeadKind::classification, ImportanceGradient::cumulative);
  const UnitImportance per_batch = unit_importance(
      *model, {first, second}, HeadKind::classification, ImportanceGradient::per_batch);
  for (int64_t layer = 0; layer < 2; ++layer) {
    const torch::Tensor a = g1.heads[layer], b = g2.heads[layer];
    EXPECT_TRUE(torch::allclose(cumulative.heads[layer], a.abs() + (a + b).abs(), 1e-12, 1e-14));
    EXPECT_TRUE(torch::allclose(per_batch.heads[layer], a.abs() + b.abs(), 1e-12, 1e-14));
    const torch::Tensor out1 = g1.output_side[layer], out2 = g2.output_side[layer];
    const torch::Tensor in1 = g1.input_side[layer], in2 = g2.input_side[layer];
    EXPECT_TRUE(torch::allclose(cumulative.neurons[layer],
                                out1.abs() + (out1 + out2).abs() + in1.abs() + (in1 + in2).abs(),
                                1e-12, 1e-14));
  }
  EXPECT_FALSE(torch::allclose(cumulative.heads, per_batch.heads, 1e-9, 1e-12));
}

// Rewiring is function-preserving and sorts the units (5.2, 5.3).
TEST(DynabertRewiring, PreservesTheFunctionAndSortsImportance) {
  const auto model = tiny_model(tiny_config(), 23);
  const std::vector<Batch> batches = {labelled_batch(7), labelled_batch(8)};
  const auto original = model->clone();
  const UnitImportance before =
      unit_importance(*model, batches, HeadKind::classification, ImportanceGradient::per_batch);
  const Rewiring rewiring = rewire(*model, before);
  for (const Batch& batch : batches) {
    ForwardOptions hidden;
    hidden.output_hidden_states = true;
    const ModelOutput a = original->forward(batch, hidden), b = model->forward(batch, hidden);
    EXPECT_TRUE(torch::allclose(a.logits, b.logits, 1e-12, 1e-12));
    for (size_t k = 0; k < a.hidden_states.size(); ++k) {
      EXPECT_TRUE(torch::allclose(a.hidden_states[k], b.hidden_states[k], 1e-12, 1e-12));
    }
  }
  const UnitImportance after =
      unit_importance(*model, batches, HeadKind::classification, ImportanceGradient::per_batch);
  for (int64_t layer = 0; layer < 2; ++layer) {
    for (const torch::Tensor& row : {after.heads[layer], after.neurons[layer]}) {
      for (int64_t i = 1; i < row.size(0); ++i) {
        EXPECT_GE(row[i - 1].item<double>(), row[i].item<double>() - 1e-12) << layer << " " << i;
      }
    }
    // The order applied is the one the importance asks for.
    EXPECT_TRUE(torch::allclose(after.heads[layer],
                                before.heads[layer].index_select(
                                    0, torch::tensor(rewiring.heads[static_cast<size_t>(layer)])),
                                1e-10, 1e-12));
  }
  // Ties keep the lower index first.
  EXPECT_EQ(importance_order(torch::tensor({{1.0, 3.0, 1.0, 3.0}}, torch::kFloat64)),
            (std::vector<std::vector<int64_t>>{{1, 3, 0, 2}}));
}

// SCE (5.9): SCE(t, t) is the entropy of softmax(t) with zero gradient; hand-computed values.
TEST(DynabertLosses, SoftCrossEntropyMatchesHandComputedValues) {
  const torch::Tensor t = torch::tensor({{std::log(3.0), 0.0}}, torch::kFloat64);
  EXPECT_NEAR(soft_cross_entropy(torch::zeros({1, 2}, torch::kFloat64), t).item<double>(),
              std::log(2.0), 1e-12);
  // s = (1, 0), t = (0, 0): ln(1 + e) - 1/2.
  EXPECT_NEAR(soft_cross_entropy(torch::tensor({{1.0, 0.0}}, torch::kFloat64),
                                 torch::zeros({1, 2}, torch::kFloat64))
                  .item<double>(),
              std::log(1 + std::exp(1.0)) - 0.5, 1e-12);
  const torch::Tensor s = t.clone().requires_grad_();
  const torch::Tensor sce = soft_cross_entropy(s, t);
  EXPECT_NEAR(sce.item<double>(), -(0.75 * std::log(0.75) + 0.25 * std::log(0.25)), 1e-12);
  sce.backward();
  EXPECT_LT(s.grad().abs().max().item<double>(), 1e-12);
}

// Hidden-state pairs of a depth sub-network (5.10) and the MSE over all elements.
TEST(DynabertLosses, HiddenStatePairsAndMeanOverAllElements) {
  EXPECT_EQ(hidden_state_index(depth_layers(4, Multiplier{1, 2}), 4),
            (std::vector<int64_t>{0, 2, 4}));
  EXPECT_EQ(hidden_state_index(depth_layers(4, Multiplier{1, 1}), 4),
            (std::vector<int64_t>{0, 1, 2, 3, 4}));
  const std::vector<torch::Tensor> teacher = {torch::zeros({2, 3, 4}), torch::ones({2, 3, 4}),
                                              torch::full({2, 3, 4}, 2.0)};
  const std::vector<torch::Tensor> student = {torch::ones({2, 3, 4}), torch::ones({2, 3, 4})};
  // (1 - 0)² + (1 - 2)², each averaged over 24 elements.
  EXPECT_NEAR(hidden_state_loss(student, teacher, {0, 2}).item<double>(), 2.0, 1e-12);
}

// The keyword task's tiny teacher in float64 for exact gradient comparisons.
struct StepFixture {
  std::shared_ptr<EncoderModel> teacher = testing::keyword_teacher(31);
  std::unique_ptr<testing::KeywordData> data = testing::keyword_data(64, 16);
  Batch batch;
  DynabertOptions options;
  StepFixture() {
    teacher->to(torch::kFloat64);
    std::vector<int64_t> members(8);
    std::iota(members.begin(), members.end(), 0);
    batch = data->data.train_batch(members);
    options.widths = {Multiplier{1, 1}, Multiplier{1, 2}};
    options.depths = {Multiplier{1, 1}, Multiplier{1, 2}};
  }
};

std::vector<torch::Tensor> gradients(const EncoderModel& model) {
  std::vector<torch::Tensor> out;
  for (const auto& p : model.parameters()) {
    out.push_back(p.grad().defined() ? p.grad().clone() : torch::zeros_like(p));
  }
  return out;
}

// 5.8: the accumulated gradient of a step is the sum of the sub-networks' gradients; 5.11: the
// teacher is untouched; 5.14: stage1_distill = ref gives the sum of the task losses.
TEST(DynabertStep, AccumulatesSubnetworkGradientsAndLeavesTheTeacher) {
  StepFixture f;
  const auto teacher_before = f.teacher->clone();
  auto student = f.teacher->clone();
  student->eval();  // no dropout: the separate passes must see the same function
  for (const int stage : {1, 2}) {
    student->zero_grad();
    const double total =
        dynabert_step(stage, *student, *f.teacher, f.batch, HeadKind::classification, f.options);
    const std::vector<torch::Tensor> together = gradients(*student);

    std::vector<torch::Tensor> summed;
    double summed_loss = 0;
    const std::vector<Multiplier> depths =
        stage == 1 ? std::vector<Multiplier>{Multiplier{1, 1}} : f.options.depths;
    for (const Multiplier& depth : depths) {
      for (const Multiplier& width : f.options.widths) {
        DynabertOptions single = f.options;
        single.widths = {width};
        single.depths = {depth};
        student->zero_grad();
        summed_loss +=
            dynabert_step(stage, *student, *f.teacher, f.batch, HeadKind::classification, single);
        const std::vector<torch::Tensor> g = gradients(*student);
        if (summed.empty()) {
          summed = g;
        } else {
          for (size_t i = 0; i < g.size(); ++i) summed[i] += g[i];
        }
      }
    }
    EXPECT_NEAR(total, summed_loss, 1e-12);
    for (size_t i = 0; i < summed.size(); ++i) {
      EXPECT_TRUE(torch::allclose(together[i], summed[i], 1e-10, 1e-13)) << stage << " " << i;
    }
  }
  for (const auto& item : f.teacher->named_parameters()) {
    EXPECT_TRUE(torch::equal(item.value(), teacher_before->named_parameters()[item.key()]))
        << item.key();
  }

  // Stage 1 at width 1 of the teacher itself: every distillation term is 0 except the soft
  // cross-entropy, which is the entropy of the teacher's predictions.
  DynabertOptions full = f.options;
  full.widths = {Multiplier{1, 1}};
  student->zero_grad();
  const ModelOutput teacher_out = f.teacher->forward(f.batch);
  const double entropy = soft_cross_entropy(teacher_out.logits, teacher_out.logits).item<double>();
  EXPECT_NEAR(dynabert_step(1, *student, *f.teacher, f.batch, HeadKind::classification, full),
              entropy, 1e-12);

  // D3: without distillation, stage 1's loss is the sum over widths of the task loss.
  DynabertOptions ref = f.options;
  ref.stage1_distill = false;
  double task_losses = 0;
  for (const Multiplier& width : ref.widths) {
    const Subnetwork sub = Subnetwork::dynabert(student->config(), width, Multiplier{1, 1});
    ForwardOptions forward;
    forward.subnetwork = &sub;
    torch::NoGradGuard no_grad;
    task_losses +=
        supervised_loss(student->forward(f.batch, forward), f.batch, HeadKind::classification)
            .item<double>();
  }
  student->zero_grad();
  EXPECT_NEAR(dynabert_step(1, *student, *f.teacher, f.batch, HeadKind::classification, ref),
              task_losses, 1e-12);
}

// 5.12: the choice is the smallest reduction at least the target, for each variant.
TEST(DynabertChoice, PicksTheSmallestReductionThatMeetsTheTarget) {
  const auto teacher = testing::keyword_teacher(1, 4);  // L=4, H=4, d_f=8
  const EncoderConfig& config = teacher->config();
  DynabertOptions options = dynabert_options(Params(), 0);
  struct Case {
    DynabertVariant variant;
    double target;
    std::string width, depth;
    double achieved;
  };
  for (const Case& c : std::vector<Case>{
           {DynabertVariant::width, 0.25, "0.75", "1", 0.25},
           {DynabertVariant::width, 0.4, "0.5", "1", 0.5},
           {DynabertVariant::width, 0.6, "0.25", "1", 0.75},
           {DynabertVariant::depth, 0.25, "1", "0.75", 0.25},
           {DynabertVariant::depth, 0.4, "0.75", "0.75", 0.4375},
           {DynabertVariant::depth, 0.5, "1", "0.5", 0.5},
           {DynabertVariant::depth, 0.6, "0.5", "0.75", 0.625},  // tie with (0.75, 0.5)
           {DynabertVariant::depth, 0.7, "0.5", "0.5", 0.75},
           {DynabertVariant::depth, 0.8, "0.25", "0.75", 0.8125}}) {
    const DynabertChoice choice = choose_subnetwork(config, options, c.variant, c.target, 25.0);
    EXPECT_EQ(choice.width.text(), c.width) << c.target;
    EXPECT_EQ(choice.depth.text(), c.depth) << c.target;
    EXPECT_NEAR(choice.flops_reduction, c.achieved, 1e-12) << c.target;
  }
  try {
    choose_subnetwork(config, options, DynabertVariant::width, 0.8, 25.0);
    ADD_FAILURE() << "no error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("the nearest is w=0.25 d=1 at 75.0 %"),
              std::string::npos)
        << error.what();
  }
  // A width that leaves no head is an error before any training.
  std::ostringstream log;
  options.widths = {Multiplier{1, 1}, Multiplier{1, 10}};
  auto data = testing::keyword_data(64, 16);
  EXPECT_THROW(train_dynabert(*teacher, data->data, options, testing::temp_dir("dyna"), log),
               Error);
}

DynabertOptions short_training() {
  Params p;
  p.set("widths", "1,0.5");
  p.set("depths", "1,0.5");
  p.set("epochs_stage1", "2");
  p.set("epochs_stage2", "1");
  p.set("lr", "1e-3");
  p.set("batch_size", "8");
  p.set("evals_per_epoch", "2");
  p.set("save_every", "3");
  return dynabert_options(p, 5);
}

std::vector<torch::Tensor> saved_weights(const std::string& dir) {
  std::vector<torch::Tensor> out;
  for (const auto& p : load_checkpoint(dir)->parameters()) out.push_back(p.clone());
  return out;
}

// A whole training: the record, the curves of every sub-network, and a run stopped part-way
// and rerun ends with the weights and curve steps of an uninterrupted one.
TEST(DynabertTraining, TrainsResumesAndRecordsCurves) {
  torch::set_num_threads(1);
  const auto teacher = testing::keyword_teacher(41);
  auto data = testing::keyword_data(64, 24);
  const auto teacher_before = teacher->clone();
  std::ostringstream log;
  const std::string whole_dir = testing::temp_dir("dynabert-whole");
  const DynabertTraining whole =
      train_dynabert(*teacher, data->data, short_training(), whole_dir, log);
  ASSERT_TRUE(whole.finished);
  EXPECT_EQ(whole.record.at("stage1_steps").get<int64_t>(), 16);  // 2 epochs x 8 batches
  EXPECT_EQ(whole.record.at("steps").get<int64_t>(), 24);
  const nlohmann::json& curves = whole.record.at("curves");
  EXPECT_EQ(curves.size(), 4u);  // (1, 1), (0.5, 1), (1, 0.5), (0.5, 0.5)
  const LearningCurve curve = curve_from_json(curves.at("w=0.5 d=1"), "test");
  // Step 0, every 4 steps of stage 1 (16 steps), every 4 of stage 2 (8 steps).
  ASSERT_EQ(curve.size(), 1u + 4u + 2u);
  EXPECT_EQ(curve.front().step, 0);
  EXPECT_EQ(curve.back().step, 24);
  EXPECT_EQ(curve.back().stage, 2);
  EXPECT_DOUBLE_EQ(curve.front().flops_reduction, 0.5);
  for (size_t i = 1; i < curve.size(); ++i) {
    EXPECT_GE(curve[i].pruning_seconds(), curve[i - 1].pruning_seconds());
    EXPECT_GT(curve[i].step, curve[i - 1].step);
  }
  EXPECT_TRUE(std::filesystem::exists(whole_dir + "/model/model.safetensors"));
  EXPECT_TRUE(std::filesystem::exists(whole_dir + "/stage1/model.safetensors"));
  EXPECT_FALSE(std::filesystem::exists(whole_dir + "/stage1-state.pt"));
  for (const auto& item : teacher->named_parameters()) {
    EXPECT_TRUE(torch::equal(item.value(), teacher_before->named_parameters()[item.key()]));
  }

  // In parts: stop inside stage 1, then inside stage 2, then finish.
  const std::string parts_dir = testing::temp_dir("dynabert-parts");
  DynabertOptions parts = short_training();
  parts.stop_after = 7;
  EXPECT_FALSE(train_dynabert(*teacher, data->data, parts, parts_dir, log).finished);
  parts.stop_after = 19;
  EXPECT_FALSE(train_dynabert(*teacher, data->data, parts, parts_dir, log).finished);
  parts.stop_after = 0;
  const DynabertTraining resumed = train_dynabert(*teacher, data->data, parts, parts_dir, log);
  ASSERT_TRUE(resumed.finished);
  const std::vector<torch::Tensor> a = saved_weights(whole_dir + "/model");
  const std::vector<torch::Tensor> b = saved_weights(parts_dir + "/model");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << i;
  const LearningCurve resumed_curve =
      curve_from_json(resumed.record.at("curves").at("w=0.5 d=1"), "test");
  ASSERT_EQ(resumed_curve.size(), curve.size());
  for (size_t i = 0; i < curve.size(); ++i) {
    EXPECT_EQ(resumed_curve[i].step, curve[i].step);
    EXPECT_DOUBLE_EQ(resumed_curve[i].metric, curve[i].metric);
  }

  // The registered method: DynaBERT-d at 50 % is the extracted (1, 0.5) sub-network.
  const RetrainMethod* method = find_retrain_method("dynabert");
  ASSERT_NE(method, nullptr);
  Params given;
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"widths", "1,0.5"},
                                   {"depths", "1,0.5"},
                                   {"epochs_stage1", "2"},
                                   {"epochs_stage2", "1"},
                                   {"lr", "1e-3"},
                                   {"batch_size", "8"},
                                   {"evals_per_epoch", "2"},
                                   {"save_every", "3"},
                                   {"variant", "d"}}) {
    given.set(key, value);
  }
  RetrainInput input;
  input.teacher = teacher.get();
  input.data = data->data;
  input.params = retrain_params(*method, given);
  input.seed = 5;
  input.dir = whole_dir;
  input.log = &log;
  const RetrainOutcome outcome = method->prune(input, 0.5);
  EXPECT_EQ(outcome.label, "DynaBERT-d");
  ASSERT_NE(outcome.model, nullptr);
  EXPECT_EQ(outcome.model->config().num_layers, 1);
  EXPECT_NEAR(outcome.flops_after / outcome.flops_before, 0.5, 1e-12);
  // Masks in the teacher's unit order: layer 0 whole, layer 1 dropped.
  EXPECT_EQ(outcome.arrays.at("head_masks")[0].sum().item<double>(), 4);
  EXPECT_EQ(outcome.arrays.at("head_masks")[1].sum().item<double>(), 0);
  EXPECT_EQ(outcome.arrays.at("neuron_masks").sum().item<double>(), 8);
  EXPECT_EQ(outcome.curve.size(), curve.size());
  EXPECT_DOUBLE_EQ(outcome.curve.back().metric,
                   curve_from_json(curves.at("w=1 d=0.5"), "test").back().metric);
  EXPECT_DOUBLE_EQ(outcome.metrics.at("accuracy"), outcome.curve.back().metric);
}

}  // namespace
}  // namespace kprune
