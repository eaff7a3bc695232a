// The shared training loop (framework/train/trainer.h): batches, schedules per parameter group,
// clipping, timing, resume, early stop (retraining-baselines.md 5.13, 5.23, 5.26).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <thread>

#include "framework/train/trainer.h"
#include "framework/util/error.h"
#include "tests/test_support.h"

namespace kprune {
namespace {

TEST(LinearSchedule, WarmupThenLinearDecay) {
  // 10 steps, 2 of warmup: 1/2, 2/2, then (10-s)/8 for s = 2..9.
  EXPECT_DOUBLE_EQ(linear_schedule(0, 2, 10), 0.5);
  EXPECT_DOUBLE_EQ(linear_schedule(1, 2, 10), 1.0);
  EXPECT_DOUBLE_EQ(linear_schedule(2, 2, 10), 1.0);
  EXPECT_DOUBLE_EQ(linear_schedule(6, 2, 10), 0.5);
  EXPECT_DOUBLE_EQ(linear_schedule(9, 2, 10), 0.125);
  EXPECT_DOUBLE_EQ(linear_schedule(3, 0, 4), 0.25);
}

TEST(SeededPermutation, IsAPermutationAndDeterministic) {
  const auto a = seeded_permutation(1000, 7);
  const auto b = seeded_permutation(1000, 7);
  const auto c = seeded_permutation(1000, 8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  auto sorted = a;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> expected(1000);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(sorted, expected);
  // Not the identity: a shuffle of 1000 elements leaves few fixed points.
  int64_t fixed = 0;
  for (int64_t i = 0; i < 1000; ++i) fixed += a[static_cast<size_t>(i)] == i;
  EXPECT_LT(fixed, 20);
}

// Two scalar parameters, each in its own group, whose gradient is the constant 1: AdamW then
// moves each by its learning rate per step (m̂ / sqrt(v̂) = 1), which makes the schedules visible.
struct Scalars : torch::nn::Module {
  Scalars() {
    a = register_parameter("a", torch::zeros({1}, torch::kFloat64));
    b = register_parameter("b", torch::zeros({1}, torch::kFloat64));
  }
  torch::Tensor a, b;
};

ParameterGroup group_of(const std::string& name, const torch::Tensor& parameter, double lr,
                        LearningRateSchedule schedule) {
  ParameterGroup group;
  group.parameters.insert(name, parameter);
  group.adamw = {lr, 0.0, 1e-12};
  group.schedule = schedule;
  return group;
}

TEST(Trainer, EachGroupFollowsItsOwnSchedule) {
  auto model = std::make_shared<Scalars>();
  TrainerOptions options;
  options.examples = 8;
  options.batch_size = 4;
  options.max_steps = 5;
  options.max_grad_norm = 0;
  std::vector<double> a_values, b_values;
  TrainingCallbacks callbacks;
  callbacks.step = [&](const std::vector<int64_t>&, int64_t) {
    a_values.push_back(model->a.item<double>());
    b_values.push_back(model->b.item<double>());
    (model->a + model->b).sum().backward();
    return StepOutcome{1.0, 1};
  };
  run_training({{"scalars", model.get()}},
               {group_of("a", model->a, 0.1, LearningRateSchedule::linear),
                group_of("b", model->b, 0.02, LearningRateSchedule::constant)},
               options, callbacks);
  a_values.push_back(model->a.item<double>());
  b_values.push_back(model->b.item<double>());
  for (size_t s = 0; s + 1 < a_values.size(); ++s) {
    // Linear decay from 0.1 to 0 over 5 steps; the predictor-like group stays at 0.02 (5.23).
    EXPECT_NEAR(a_values[s] - a_values[s + 1], 0.1 * (5.0 - static_cast<double>(s)) / 5.0, 1e-9);
    EXPECT_NEAR(b_values[s] - b_values[s + 1], 0.02, 1e-9);
  }
}

// Batches: floor(n / b) disjoint batches of a seeded permutation per epoch; the last partial
// batch is dropped.
TEST(Trainer, DrawsDisjointBatchesOfAPermutationPerEpoch) {
  auto model = std::make_shared<Scalars>();
  TrainerOptions options;
  options.examples = 10;
  options.batch_size = 4;
  options.max_steps = 4;
  options.seed = 3;
  std::vector<std::vector<int64_t>> batches;
  TrainingCallbacks callbacks;
  callbacks.step = [&](const std::vector<int64_t>& members, int64_t) {
    batches.push_back(members);
    model->a.sum().backward();
    return StepOutcome{1.0, 1};
  };
  run_training({{"scalars", model.get()}}, {group_of("a", model->a, 0.1, {})}, options, callbacks);
  ASSERT_EQ(batches.size(), 4u);
  for (size_t epoch = 0; epoch < 2; ++epoch) {
    const std::vector<int64_t> order = seeded_permutation(10, 3 * 1000003 + epoch);
    EXPECT_EQ(batches[2 * epoch], std::vector<int64_t>(order.begin(), order.begin() + 4));
    EXPECT_EQ(batches[2 * epoch + 1], std::vector<int64_t>(order.begin() + 4, order.begin() + 8));
  }
}

// After clipping, the gradient the optimizer used has global norm <= 1 (5.13).
TEST(Trainer, ClipsTheGlobalGradientNorm) {
  auto model = std::make_shared<Scalars>();
  TrainerOptions options;
  options.examples = 4;
  options.batch_size = 4;
  options.max_steps = 3;
  options.checkpoint_every = 1;
  TrainingCallbacks callbacks;
  callbacks.step = [&](const std::vector<int64_t>&, int64_t) {
    (30 * model->a + 40 * model->b).sum().backward();  // norm 50
    return StepOutcome{1.0, 1};
  };
  int checkpoints = 0;
  callbacks.checkpoint = [&](int64_t, const TrainingTimes&) {
    const double norm = std::hypot(model->a.grad().item<double>(), model->b.grad().item<double>());
    EXPECT_LE(norm, 1.0 + 1e-6);
    EXPECT_NEAR(model->a.grad().item<double>() / model->b.grad().item<double>(), 0.75, 1e-12);
    ++checkpoints;
  };
  ParameterGroup both = group_of("a", model->a, 0.1, {});
  both.parameters.insert("b", model->b);
  run_training({{"scalars", model.get()}}, {both}, options, callbacks);
  EXPECT_EQ(checkpoints, 3);
}

// Checkpoint (evaluation) time is not training time (5.26): a slow checkpoint leaves the
// recorded training time small and shows up in checkpoint time.
TEST(Trainer, TimesCheckpointsApartFromTraining) {
  auto model = std::make_shared<Scalars>();
  TrainerOptions options;
  options.examples = 4;
  options.batch_size = 4;
  options.max_steps = 4;
  options.checkpoint_every = 1;
  TrainingCallbacks callbacks;
  callbacks.step = [&](const std::vector<int64_t>&, int64_t) {
    model->a.sum().backward();
    return StepOutcome{1.0, 1};
  };
  callbacks.checkpoint = [&](int64_t, const TrainingTimes&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
  };
  const TrainerResult result = run_training({{"scalars", model.get()}},
                                            {group_of("a", model->a, 0.1, {})}, options, callbacks);
  EXPECT_GE(result.times.checkpoint, 4 * 0.06);
  EXPECT_LT(result.times.train, 0.06);
}

// A small model with dropout-like noise from the global RNG, to test resuming.
struct Noisy : torch::nn::Module {
  Noisy() { weight = register_parameter("weight", torch::randn({4, 3}, torch::kFloat64)); }
  torch::Tensor loss(const std::vector<int64_t>& members) {
    const torch::Tensor x =
        torch::tensor(members, torch::kFloat64).unsqueeze(1).expand({-1, 4}) / 10.0;
    const torch::Tensor noise =
        torch::rand({static_cast<int64_t>(members.size()), 3}, torch::kFloat64);
    return (torch::matmul(x, weight) * noise).pow(2).mean();
  }
  torch::Tensor weight;
};

TEST(Trainer, AResumedRunEndsWithTheWeightsOfAnUninterruptedOne) {
  const std::string dir = testing::temp_dir("trainer");
  auto train = [&](const std::string& state, int64_t stop_after) {
    torch::manual_seed(0);
    auto model = std::make_shared<Noisy>();
    TrainerOptions options;
    options.examples = 12;
    options.batch_size = 4;
    options.max_steps = 7;
    options.save_every = 2;
    options.stop_after = stop_after;
    options.state_path = state;
    options.fingerprint = "noisy";
    std::vector<int64_t> curve;  // the caller's progress, restored with the state
    TrainingCallbacks callbacks;
    callbacks.step = [&](const std::vector<int64_t>& members, int64_t step) {
      model->loss(members).backward();
      curve.push_back(step);
      return StepOutcome{1.0, 1};
    };
    callbacks.save_extra = [&] { return nlohmann::json(curve).dump(); };
    callbacks.load_extra = [&](const std::string& text) {
      curve = nlohmann::json::parse(text).get<std::vector<int64_t>>();
    };
    ParameterGroup group;
    group.parameters = model->named_parameters();
    group.adamw = {0.05, 0.01, 1e-8};
    group.warmup_ratio = 0.2;
    const TrainerResult result =
        run_training({{"noisy", model.get()}}, {group}, options, callbacks);
    return std::make_tuple(model->weight.clone(), result, curve);
  };
  const auto [whole, whole_result, whole_curve] = train(dir + "/whole.pt", 0);
  EXPECT_TRUE(whole_result.finished);
  const auto [part, part_result, part_curve] = train(dir + "/parts.pt", 3);
  EXPECT_FALSE(part_result.finished);
  EXPECT_EQ(part_result.steps, 3);
  EXPECT_FALSE(torch::equal(part, whole));
  const auto [resumed, resumed_result, resumed_curve] = train(dir + "/parts.pt", 0);
  EXPECT_EQ(resumed_result.resumed_from, 3);
  EXPECT_TRUE(resumed_result.finished);
  EXPECT_TRUE(torch::equal(resumed, whole));
  EXPECT_EQ(resumed_curve, whole_curve);
  EXPECT_GT(resumed_result.times.train, part_result.times.train);  // cumulative
}

TEST(Trainer, StopsEarlyWithALastCheckpointAndState) {
  auto model = std::make_shared<Scalars>();
  TrainerOptions options;
  options.examples = 4;
  options.batch_size = 4;
  options.max_steps = 50;
  options.checkpoint_every = 100;
  options.state_path = testing::temp_dir("trainer-stop") + "/state.pt";
  std::vector<int64_t> checkpoints;
  TrainingCallbacks callbacks;
  int64_t steps = 0;
  callbacks.step = [&](const std::vector<int64_t>&, int64_t) {
    model->a.sum().backward();
    ++steps;
    return StepOutcome{1.0, 1};
  };
  callbacks.checkpoint = [&](int64_t step, const TrainingTimes&) { checkpoints.push_back(step); };
  callbacks.stop_early = [&](const TrainingTimes&) { return steps >= 6; };
  const TrainerResult result = run_training({{"scalars", model.get()}},
                                            {group_of("a", model->a, 0.1, {})}, options, callbacks);
  EXPECT_TRUE(result.stopped_early);
  EXPECT_FALSE(result.finished);
  EXPECT_EQ(result.steps, 6);
  EXPECT_EQ(checkpoints, (std::vector<int64_t>{6}));
  EXPECT_TRUE(std::filesystem::exists(options.state_path));
}

TEST(Trainer, RejectsTooFewExamplesAndAForeignState) {
  auto model = std::make_shared<Scalars>();
  TrainerOptions options;
  options.name = "probe";
  options.examples = 3;
  options.batch_size = 4;
  options.max_steps = 2;
  TrainingCallbacks callbacks;
  callbacks.step = [&](const std::vector<int64_t>&, int64_t) {
    model->a.sum().backward();
    return StepOutcome{1.0, 1};
  };
  const std::vector<ParameterGroup> groups = {group_of("a", model->a, 0.1, {})};
  try {
    run_training({{"scalars", model.get()}}, groups, options, callbacks);
    ADD_FAILURE() << "no error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("3 training example(s), fewer than one batch of 4"),
              std::string::npos);
  }
  options.examples = 4;
  options.state_path = testing::temp_dir("trainer-foreign") + "/state.pt";
  options.fingerprint = "first";
  run_training({{"scalars", model.get()}}, groups, options, callbacks);
  options.fingerprint = "second";
  options.max_steps = 3;
  try {
    run_training({{"scalars", model.get()}}, groups, options, callbacks);
    ADD_FAILURE() << "no error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("belongs to another recipe"), std::string::npos);
  }
}

}  // namespace
}  // namespace kprune
