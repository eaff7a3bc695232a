// GLUE metrics against values computed by hand (the arithmetic is in the comments).
#include <gtest/gtest.h>

#include <cmath>

#include "framework/tasks/metrics.h"
#include "framework/tasks/task.h"
#include "framework/util/error.h"

namespace kprune {
namespace {

// predictions {1,1,0,1,0} vs golds {1,0,1,1,0}: TP = 2 (items 0, 3), FP = 1 (item 1),
// FN = 1 (item 2), TN = 1 (item 4).
const Values kPredicted = {1, 1, 0, 1, 0};
const Values kGold = {1, 0, 1, 1, 0};

TEST(Metrics, Accuracy) {
  EXPECT_DOUBLE_EQ(accuracy(kPredicted, kGold), 60.0);  // 3 of 5 right
  EXPECT_DOUBLE_EQ(accuracy({2, 0, 1}, {2, 1, 1}), 100.0 * 2 / 3);
}

TEST(Metrics, F1OfThePositiveClass) {
  // 2TP / (2TP + FP + FN) = 4 / 6
  EXPECT_DOUBLE_EQ(f1_positive(kPredicted, kGold), 100.0 * 4 / 6);
  // Only negatives everywhere: 2TP + FP + FN = 0 -> 0 (scikit-learn's zero_division value).
  EXPECT_DOUBLE_EQ(f1_positive({0, 0}, {0, 0}), 0.0);
}

TEST(Metrics, MatthewsCorrelation) {
  // (TP*TN - FP*FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)) = (2 - 1) / sqrt(3*3*2*2) = 1/6
  EXPECT_NEAR(matthews_correlation(kPredicted, kGold), 100.0 / 6, 1e-12);
  EXPECT_DOUBLE_EQ(matthews_correlation(kGold, kGold), 100.0);
  EXPECT_DOUBLE_EQ(matthews_correlation({0, 1, 0, 1}, {1, 0, 1, 0}), -100.0);
  // Constant predictions: TP + FP = 0, the denominator is 0 -> 0 (scikit-learn).
  EXPECT_DOUBLE_EQ(matthews_correlation({0, 0, 0, 0}, {1, 0, 1, 0}), 0.0);
}

TEST(Metrics, Pearson) {
  // x = {1,2,3,4} (mean 2.5), y = {2,4,5,9} (mean 5): dx = {-1.5,-.5,.5,1.5}, dy = {-3,-1,0,4};
  // sxy = 4.5+.5+0+6 = 11, sxx = 5, syy = 26 -> r = 11 / sqrt(130) = 0.9647638212...
  EXPECT_NEAR(pearson({1, 2, 3, 4}, {2, 4, 5, 9}), 100.0 * 11 / std::sqrt(130.0), 1e-12);
  EXPECT_NEAR(pearson({1, 2, 3}, {3, 2, 1}), -100.0, 1e-12);
  // A constant side makes the correlation undefined: NaN (SciPy).
  EXPECT_TRUE(std::isnan(pearson({1, 1, 1}, {1, 2, 3})));
}

TEST(Metrics, AverageRanksOfTies) {
  EXPECT_EQ(average_ranks({10, 20, 20, 5}), (Values{2, 3.5, 3.5, 1}));
  EXPECT_EQ(average_ranks({7, 7, 7}), (Values{2, 2, 2}));
}

TEST(Metrics, SpearmanRanksTiesByAverage) {
  // ranks x = {1, 2.5, 2.5, 4}, ranks y = {1, 3, 2, 4} (both mean 2.5):
  // dx = {-1.5,0,0,1.5}, dy = {-1.5,.5,-.5,1.5}; sxy = 4.5, sxx = 4.5, syy = 5
  // -> rho = 4.5 / sqrt(22.5) = 0.9486832980... (scipy.stats.spearmanr agrees).
  EXPECT_NEAR(spearman({1, 2, 2, 3}, {1, 3, 2, 4}), 100.0 * 4.5 / std::sqrt(22.5), 1e-12);
  // Any monotone map gives 100.
  EXPECT_NEAR(spearman({0.1, 5, 2, 3}, {1, 1000, 20, 300}), 100.0, 1e-12);
  EXPECT_TRUE(std::isnan(spearman({2, 2, 2}, {1, 2, 3})));
}

TEST(Metrics, BadInputsAreErrors) {
  EXPECT_THROW(accuracy({1, 0}, {1}), Error);
  EXPECT_THROW(spearman({}, {}), Error);
  EXPECT_THROW(find_metric("auc"), Error);
}

TEST(Metrics, PerTaskSets) {
  const auto mrpc = task_metrics(find_task("mrpc"), kPredicted, kGold);
  ASSERT_EQ(mrpc.size(), 2u);
  EXPECT_DOUBLE_EQ(mrpc.at("accuracy"), 60.0);
  EXPECT_DOUBLE_EQ(mrpc.at("f1"), 100.0 * 4 / 6);
  const auto cola = task_metrics(find_task("cola"), kPredicted, kGold);
  ASSERT_EQ(cola.size(), 1u);
  EXPECT_NEAR(cola.at("mcc"), 100.0 / 6, 1e-12);
  const auto stsb = task_metrics(find_task("stsb"), {1, 2, 3, 4}, {2, 4, 5, 9});
  ASSERT_EQ(stsb.size(), 2u);
  EXPECT_NEAR(stsb.at("pearson"), 100.0 * 11 / std::sqrt(130.0), 1e-12);
  EXPECT_NEAR(stsb.at("spearman"), 100.0, 1e-12);
  const auto qnli = task_metrics(find_task("qnli"), kPredicted, kGold);
  ASSERT_EQ(qnli.size(), 1u);
  EXPECT_DOUBLE_EQ(qnli.at("accuracy"), 60.0);
}

}  // namespace
}  // namespace kprune
