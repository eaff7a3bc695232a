// The evaluation loop on a tiny random model: batched, length-sorted evaluation gives the
// predictions of one-by-one unpadded forwards, in input order, and the task's metrics.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "framework/tasks/evaluate.h"
#include "framework/tasks/metrics.h"
#include "framework/util/error.h"
#include "tests/model_fixtures.h"

namespace kprune {
namespace {

// Features of lengths 2..9 in a scrambled order; ids in [1, 50), labels in [0, 3).
std::vector<Feature> random_features(int64_t count, uint64_t seed, bool with_types) {
  torch::manual_seed(seed);
  std::vector<Feature> features;
  for (int64_t i = 0; i < count; ++i) {
    Feature feature;
    const int64_t length = 2 + (i * 5) % 8;
    const auto ids = torch::randint(1, 50, {length}, torch::kInt64);
    for (int64_t t = 0; t < length; ++t) {
      feature.input_ids.push_back(ids[t].item<int64_t>());
      feature.token_type_ids.push_back(with_types && t > length / 2 ? 1 : 0);
    }
    feature.label = static_cast<double>(i % 3);
    feature.example_index = i;
    features.push_back(feature);
  }
  return features;
}

// The model's output on one feature alone, without padding.
torch::Tensor single_logits(const EncoderModel& model, const Feature& feature) {
  const Batch batch = collate({&feature}, HeadKind::classification);
  return model.forward(batch).logits[0];
}

TEST(Evaluate, ClassificationMatchesUnpaddedForwardsInInputOrder) {
  const auto model = testing::tiny_model(testing::tiny_config("bert"), 3);
  const TaskSpec& mnli = find_task("mnli");  // 3 labels, like the tiny config
  const auto features = random_features(21, 5, true);
  model->train();  // evaluate must switch dropout off and restore the flag
  const EvalResult result = evaluate(*model, mnli, features, 4);
  EXPECT_TRUE(model->is_training());
  model->eval();

  ASSERT_EQ(result.predictions.size(), features.size());
  int64_t tokens = 0, correct = 0;
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < features.size(); ++i) {
    const auto expected = single_logits(*model, features[i]).argmax().item<int64_t>();
    EXPECT_EQ(result.predictions[i], static_cast<double>(expected)) << i;
    EXPECT_EQ(result.golds[i], features[i].label);
    tokens += features[i].length();
    correct += expected == static_cast<int64_t>(features[i].label) ? 1 : 0;
  }
  EXPECT_EQ(result.tokens, tokens);
  ASSERT_EQ(result.metrics.size(), 1u);
  EXPECT_DOUBLE_EQ(result.metrics.at("accuracy"), 100.0 * static_cast<double>(correct) / 21);
  EXPECT_GE(result.seconds, 0);
}

TEST(Evaluate, RegressionPredictsTheSingleLogit) {
  const auto model =
      testing::tiny_model(testing::tiny_config("distilbert", HeadKind::regression), 4);
  const TaskSpec& stsb = find_task("stsb");
  auto features = random_features(9, 6, false);
  const EvalResult result = evaluate(*model, stsb, features, 3);
  torch::NoGradGuard no_grad;
  std::vector<double> expected;
  for (size_t i = 0; i < features.size(); ++i) {
    expected.push_back(single_logits(*model, features[i])[0].item<double>());
    EXPECT_NEAR(result.predictions[i], expected.back(), 1e-10) << i;
  }
  EXPECT_NEAR(result.metrics.at("pearson"), pearson(expected, result.golds), 1e-6);
  EXPECT_NEAR(result.metrics.at("spearman"), spearman(expected, result.golds), 1e-6);
}

TEST(Evaluate, UnlabelledFeaturesGivePredictionsOnly) {
  const auto model = testing::tiny_model(testing::tiny_config("bert"), 3);
  auto features = random_features(5, 7, true);
  for (auto& feature : features) feature.label = std::numeric_limits<double>::quiet_NaN();
  const EvalResult result = evaluate(*model, find_task("mnli"), features);
  EXPECT_TRUE(result.metrics.empty());
  EXPECT_EQ(result.predictions.size(), 5u);
  features[0].label = 1;
  EXPECT_THROW(evaluate(*model, find_task("mnli"), features), Error);
}

TEST(Evaluate, HeadMustMatchTheTask) {
  const auto model = testing::tiny_model(testing::tiny_config("bert"), 3);
  const auto features = random_features(3, 8, true);
  try {
    evaluate(*model, find_task("sst2"), features);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("the model has a classification head with 3 label(s), "
                                         "but task sst2 needs a classification head with 2"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(evaluate(*model, find_task("stsb"), features), Error);
}

}  // namespace
}  // namespace kprune
