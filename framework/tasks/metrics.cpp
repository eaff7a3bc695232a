#include "framework/tasks/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "framework/util/error.h"

namespace kprune {
namespace {

void check_sizes(const char* metric, const Values& predictions, const Values& golds) {
  if (predictions.size() != golds.size()) {
    fail("{}: {} predictions but {} gold labels", metric, predictions.size(), golds.size());
  }
  if (predictions.empty()) fail("{}: no examples", metric);
}

struct Confusion {
  double tp = 0, fp = 0, fn = 0, tn = 0;
};

Confusion confusion(const char* metric, const Values& predictions, const Values& golds) {
  check_sizes(metric, predictions, golds);
  Confusion c;
  for (size_t i = 0; i < predictions.size(); ++i) {
    const bool predicted = predictions[i] == 1;
    const bool gold = golds[i] == 1;
    if (predicted && gold) c.tp += 1;
    if (predicted && !gold) c.fp += 1;
    if (!predicted && gold) c.fn += 1;
    if (!predicted && !gold) c.tn += 1;
  }
  return c;
}

double correlation(const Values& x, const Values& y) {
  const auto n = static_cast<double>(x.size());
  const double mean_x = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double mean_y = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mean_x) * (y[i] - mean_y);
    sxx += (x[i] - mean_x) * (x[i] - mean_x);
    syy += (y[i] - mean_y) * (y[i] - mean_y);
  }
  if (sxx == 0 || syy == 0) return std::nan("");
  return sxy / std::sqrt(sxx * syy);
}

}  // namespace

double accuracy(const Values& predictions, const Values& golds) {
  check_sizes("accuracy", predictions, golds);
  int64_t correct = 0;
  for (size_t i = 0; i < predictions.size(); ++i) correct += predictions[i] == golds[i] ? 1 : 0;
  return 100.0 * static_cast<double>(correct) / static_cast<double>(predictions.size());
}

double f1_positive(const Values& predictions, const Values& golds) {
  const Confusion c = confusion("f1", predictions, golds);
  const double denominator = 2 * c.tp + c.fp + c.fn;
  return denominator == 0 ? 0.0 : 100.0 * 2 * c.tp / denominator;
}

double matthews_correlation(const Values& predictions, const Values& golds) {
  const Confusion c = confusion("mcc", predictions, golds);
  const double denominator =
      std::sqrt((c.tp + c.fp) * (c.tp + c.fn) * (c.tn + c.fp) * (c.tn + c.fn));
  return denominator == 0 ? 0.0 : 100.0 * (c.tp * c.tn - c.fp * c.fn) / denominator;
}

double pearson(const Values& predictions, const Values& golds) {
  check_sizes("pearson", predictions, golds);
  return 100.0 * correlation(predictions, golds);
}

double spearman(const Values& predictions, const Values& golds) {
  check_sizes("spearman", predictions, golds);
  return 100.0 * correlation(average_ranks(predictions), average_ranks(golds));
}

Values average_ranks(const Values& values) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return values[a] < values[b]; });
  Values ranks(values.size());
  for (size_t start = 0; start < order.size();) {
    size_t end = start + 1;
    while (end < order.size() && values[order[end]] == values[order[start]]) ++end;
    // Positions start..end-1 hold equal values: ranks start+1..end, average (start+1+end)/2.
    const double rank = static_cast<double>(start + 1 + end) / 2.0;
    for (size_t k = start; k < end; ++k) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

const MetricFunction& find_metric(const std::string& name) {
  static const std::map<std::string, MetricFunction> registry = {
      {"accuracy", accuracy}, {"f1", f1_positive},    {"mcc", matthews_correlation},
      {"pearson", pearson},   {"spearman", spearman},
  };
  const auto it = registry.find(name);
  if (it == registry.end()) {
    std::vector<std::string> names;
    for (const auto& entry : registry) names.push_back(entry.first);
    fail("unknown metric '{}'; known metrics: {}", name, fmt::join(names, ", "));
  }
  return it->second;
}

std::map<std::string, double> task_metrics(const TaskSpec& task, const Values& predictions,
                                           const Values& golds) {
  std::map<std::string, double> results;
  for (const auto& name : task.metrics) results[name] = find_metric(name)(predictions, golds);
  return results;
}

}  // namespace kprune
