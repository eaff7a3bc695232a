#pragma once
// GLUE metrics, all returned x100 (algorithms.md 8.1). Predictions and golds are class
// indices (as doubles) or scores; sizes must match and be non-empty (else kprune::Error).
//
// Degenerate inputs follow scikit-learn / SciPy:
// - f1: 0 when there is no positive prediction and no positive gold (2TP+FP+FN = 0);
// - mcc: 0 when a marginal is constant (the denominator is 0);
// - pearson, spearman: NaN when either side is constant (the correlation is undefined).
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "framework/tasks/task.h"

namespace kprune {

using Values = std::vector<double>;

double accuracy(const Values& predictions, const Values& golds);
// F1 of the positive class (label 1).
double f1_positive(const Values& predictions, const Values& golds);
// Matthews correlation of binary labels (label 1 positive).
double matthews_correlation(const Values& predictions, const Values& golds);
double pearson(const Values& predictions, const Values& golds);
// Pearson correlation of the ranks; tied values get the average of their ranks.
double spearman(const Values& predictions, const Values& golds);

// 1-based ranks with ties averaged: {10, 20, 20, 5} -> {2, 3.5, 3.5, 1}.
Values average_ranks(const Values& values);

using MetricFunction = std::function<double(const Values& predictions, const Values& golds)>;
// The metric registry: "accuracy", "f1", "mcc", "pearson", "spearman". Unknown -> Error.
const MetricFunction& find_metric(const std::string& name);

// Every metric the task lists (TaskSpec::metrics), by name.
std::map<std::string, double> task_metrics(const TaskSpec& task, const Values& predictions,
                                           const Values& golds);

}  // namespace kprune
