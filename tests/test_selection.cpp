// KPMS global threshold selection (algorithms.md 4.5, invariant 10), REF and CLEAN.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "framework/prune/selection.h"
#include "framework/util/error.h"

namespace kprune {
namespace {

double kept_flops(const std::vector<bool>& keep, const std::vector<double>& unit_flops) {
  double total = 0;
  for (size_t i = 0; i < keep.size(); ++i) total += keep[i] ? unit_flops[i] : 0.0;
  return total;
}

TEST(Selection, RefPrunesTheLowestEvenWithAFullBudget) {
  // Strict "< budget": with budget = everything, θ = lowest score is the first that fits.
  const std::vector<double> scores = {0.3, 0.1, 0.2};
  const std::vector<double> flops = {1, 1, 1};
  EXPECT_EQ(select_units(scores, flops, 3.0, SelectionMode::ref),
            (std::vector<bool>{true, false, true}));
  EXPECT_EQ(select_units(scores, flops, 3.0, SelectionMode::clean),
            (std::vector<bool>{true, true, true}));
}

TEST(Selection, HandComputedTwoCosts) {
  // Heads cost 4, neurons 1. Sorted: n0 0.1, h0 0.2, n1 0.3, h1 0.4, n2 0.5.
  const std::vector<double> scores = {0.2, 0.4, 0.1, 0.3, 0.5};
  const std::vector<double> flops = {4, 4, 1, 1, 1};
  // Budget 6: θ=0.1 keeps h0,h1,n1,n2 = 10; θ=0.2 keeps h1,n1,n2 = 6, not < 6;
  // θ=0.3 keeps h1,n2 = 5 < 6.
  EXPECT_EQ(select_units(scores, flops, 6.0, SelectionMode::ref),
            (std::vector<bool>{false, true, false, false, true}));
  // CLEAN: prune n0 (10), h0 (6 ≤ 6) and stop.
  EXPECT_EQ(select_units(scores, flops, 6.0, SelectionMode::clean),
            (std::vector<bool>{false, true, false, true, true}));
}

TEST(Selection, RefTiesWithTheThresholdArePruned) {
  const std::vector<double> scores = {0.5, 0.5, 0.5, 0.9};
  const std::vector<double> flops = {1, 1, 1, 1};
  EXPECT_EQ(select_units(scores, flops, 3.5, SelectionMode::ref),
            (std::vector<bool>{false, false, false, true}));
  // CLEAN breaks the tie by index: the lowest index goes first.
  EXPECT_EQ(select_units(scores, flops, 3.5, SelectionMode::clean),
            (std::vector<bool>{false, true, true, true}));
}

TEST(Selection, NothingFitsPrunesEverything) {
  const std::vector<double> scores = {0.5, 0.2};
  const std::vector<double> flops = {1, 1};
  for (auto mode : {SelectionMode::ref, SelectionMode::clean}) {
    EXPECT_EQ(select_units(scores, flops, 0.0, mode), (std::vector<bool>{false, false}));
    EXPECT_EQ(select_units(scores, flops, -1.0, mode), (std::vector<bool>{false, false}));
  }
}

TEST(Selection, RefComparesInFloat32) {
  // 1 + 2^-30 rounds to 1.0f: REF sees kept FLOPs 1 as not below the budget, CLEAN sees it fit.
  const std::vector<double> scores = {0.1, 0.2};
  const std::vector<double> flops = {1, 1};
  const double budget = 1.0 + std::ldexp(1.0, -30);
  EXPECT_EQ(select_units(scores, flops, budget, SelectionMode::ref),
            (std::vector<bool>{false, false}));
  EXPECT_EQ(select_units(scores, flops, budget, SelectionMode::clean),
            (std::vector<bool>{false, true}));
  EXPECT_FLOAT_EQ(ref_budget_after(10.0f, 3, 1.5), 5.5f);
}

TEST(Selection, MonotoneInTheBudgetAndWithinIt) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> uniform(0, 1);
  std::vector<double> scores, flops;
  for (int i = 0; i < 60; ++i) {
    scores.push_back(uniform(rng));
    flops.push_back(i < 12 ? 7.0 : 0.5);
  }
  for (auto mode : {SelectionMode::ref, SelectionMode::clean}) {
    std::vector<bool> previous(scores.size(), false);
    for (double budget = 0.5; budget <= 120; budget += 3.7) {
      const auto keep = select_units(scores, flops, budget, mode);
      if (mode == SelectionMode::ref) {
        EXPECT_LT(kept_flops(keep, flops), budget);
      } else {
        EXPECT_LE(kept_flops(keep, flops), budget);
      }
      for (size_t i = 0; i < keep.size(); ++i) EXPECT_TRUE(!previous[i] || keep[i]) << budget;
      previous = keep;
    }
  }
}

TEST(Selection, BadInput) {
  EXPECT_THROW(select_units({1, 2}, {1}, 1.0, SelectionMode::ref), Error);
  EXPECT_THROW(parse_selection_mode("fast"), Error);
  EXPECT_EQ(parse_selection_mode("ref"), SelectionMode::ref);
  EXPECT_EQ(to_string(SelectionMode::clean), "clean");
}

}  // namespace
}  // namespace kprune
