#include "framework/prune/selection.h"

#include <algorithm>
#include <cstddef>
#include <numeric>

#include "framework/util/error.h"

namespace kprune {

SelectionMode parse_selection_mode(const std::string& text) {
  if (text == "ref") return SelectionMode::ref;
  if (text == "clean") return SelectionMode::clean;
  fail("selection mode '{}': expected ref or clean", text);
}

std::string to_string(SelectionMode mode) { return mode == SelectionMode::ref ? "ref" : "clean"; }

namespace {

void check_sizes(const std::vector<double>& scores, const std::vector<double>& unit_flops) {
  if (scores.size() != unit_flops.size()) {
    fail("select_units: {} scores but {} unit FLOPs", scores.size(), unit_flops.size());
  }
}

// Candidates grouped by unit cost (in order of first appearance), so that kept FLOPs are
// Σ cost·count like model_flops, not a running sum that drifts.
struct CostGroups {
  std::vector<double> costs;
  std::vector<size_t> group;  // candidate -> index into costs
  std::vector<long> counts;   // candidates per group

  explicit CostGroups(const std::vector<double>& unit_flops) : group(unit_flops.size()) {
    for (size_t i = 0; i < unit_flops.size(); ++i) {
      auto found = std::find(costs.begin(), costs.end(), unit_flops[i]);
      group[i] = static_cast<size_t>(found - costs.begin());
      if (found == costs.end()) {
        costs.push_back(unit_flops[i]);
        counts.push_back(0);
      }
      ++counts[group[i]];
    }
  }
};

std::vector<size_t> ascending_order(const std::vector<double>& scores) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  return order;
}

// Reference find_mask: θ runs over the sorted scores; stop at the first θ whose kept FLOPs
// (units with score > θ) are below the budget, all in float32.
std::vector<bool> select_ref(const std::vector<double>& scores,
                             const std::vector<double>& unit_flops, double budget) {
  const size_t count = scores.size();
  std::vector<bool> keep(count, false);
  if (count == 0) return keep;
  CostGroups groups(unit_flops);
  const std::vector<size_t> order = ascending_order(scores);
  const float budget32 = static_cast<float>(budget);
  std::vector<long> above = groups.counts;  // units with score > θ, per group
  double threshold = scores[order.back()];
  size_t next = 0;  // first sorted position whose score is > θ
  for (size_t k = 0; k < count; ++k) {
    const double theta = scores[order[k]];
    while (next < count && scores[order[next]] <= theta) --above[groups.group[order[next++]]];
    float kept_flops = 0.0f;
    for (size_t g = 0; g < groups.costs.size(); ++g) {
      kept_flops += static_cast<float>(groups.costs[g]) * static_cast<float>(above[g]);
    }
    if (kept_flops < budget32) {
      threshold = theta;
      break;
    }
  }
  for (size_t i = 0; i < count; ++i) keep[i] = scores[i] > threshold;
  return keep;
}

// Prune the shortest prefix of the (score, index) order whose remainder fits the budget.
std::vector<bool> select_clean(const std::vector<double>& scores,
                               const std::vector<double>& unit_flops, double budget) {
  const size_t count = scores.size();
  CostGroups groups(unit_flops);
  const std::vector<size_t> order = ascending_order(scores);
  std::vector<long> kept = groups.counts;
  auto kept_flops = [&] {
    double total = 0;
    for (size_t g = 0; g < groups.costs.size(); ++g) total += groups.costs[g] * kept[g];
    return total;
  };
  size_t pruned = 0;
  while (pruned < count && kept_flops() > budget) --kept[groups.group[order[pruned++]]];
  std::vector<bool> keep(count, false);
  for (size_t k = pruned; k < count; ++k) keep[order[k]] = true;
  return keep;
}

}  // namespace

std::vector<bool> select_units(const std::vector<double>& scores,
                               const std::vector<double>& unit_flops, double budget,
                               SelectionMode mode) {
  check_sizes(scores, unit_flops);
  return mode == SelectionMode::ref ? select_ref(scores, unit_flops, budget)
                                    : select_clean(scores, unit_flops, budget);
}

float ref_budget_after(float budget, long kept, double unit_flops) {
  return budget - static_cast<float>(kept) * static_cast<float>(unit_flops);
}

}  // namespace kprune
