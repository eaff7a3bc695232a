#include "framework/retrain/learning_curve.h"

#include "framework/util/error.h"

namespace kprune {

nlohmann::json curve_to_json(const LearningCurve& curve) {
  nlohmann::json out = nlohmann::json::array();
  for (const CurvePoint& p : curve) {
    out.push_back({{"stage", p.stage},
                   {"step", p.step},
                   {"importance_seconds", p.importance_seconds},
                   {"train_seconds", p.train_seconds},
                   {"eval_seconds", p.eval_seconds},
                   {"io_seconds", p.io_seconds},
                   {"metric", p.metric},
                   {"flops_reduction", p.flops_reduction}});
  }
  return out;
}

LearningCurve curve_from_json(const nlohmann::json& json, const std::string& origin) {
  if (!json.is_array()) fail("{}: a learning curve must be a JSON array", origin);
  LearningCurve curve;
  for (size_t i = 0; i < json.size(); ++i) {
    const nlohmann::json& point = json[i];
    try {
      curve.push_back(
          {point.at("stage").get<int>(), point.at("step").get<int64_t>(),
           point.at("importance_seconds").get<double>(), point.at("train_seconds").get<double>(),
           point.at("eval_seconds").get<double>(), point.at("io_seconds").get<double>(),
           point.at("metric").get<double>(), point.at("flops_reduction").get<double>()});
    } catch (const nlohmann::json::exception& error) {
      fail("{}: learning-curve point {}: {}", origin, i, error.what());
    }
  }
  return curve;
}

}  // namespace kprune
