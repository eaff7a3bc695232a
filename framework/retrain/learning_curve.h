#pragma once
// Learning curves of the retraining-based baselines (retraining-baselines.md 3.3): at each
// checkpoint, the cumulative pruning time (importance + training steps, evaluations excluded),
// the dev metric and the FLOPs reduction reached.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace kprune {

struct CurvePoint {
  int stage = 1;     // DynaBERT: 1 (width) or 2 (width and depth); EBERT: 1
  int64_t step = 0;  // optimizer steps since training began, over every stage
  // Cumulative seconds: importance, training steps, dev evaluations, state saves.
  double importance_seconds = 0, train_seconds = 0, eval_seconds = 0, io_seconds = 0;
  double metric = 0;           // the task's main metric x 100
  double flops_reduction = 0;  // achieved ρ (EBERT: dev average, predictors included)

  // What §3.3 calls pruning time: importance and training, not evaluation or saving.
  double pruning_seconds() const { return importance_seconds + train_seconds; }
};

using LearningCurve = std::vector<CurvePoint>;

nlohmann::json curve_to_json(const LearningCurve& curve);
// Throws naming `origin` when a point lacks a field.
LearningCurve curve_from_json(const nlohmann::json& json, const std::string& origin);

}  // namespace kprune
