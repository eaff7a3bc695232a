#pragma once
// The retraining-based baselines of the efficiency comparison (retraining-baselines.md), behind
// one interface and registry, beside the retraining-free pruners of framework/prune: a method
// turns a fine-tuned teacher into a model at a FLOPs reduction by training, and reports its
// learning curve. Adding one is one file plus one registration line (retrain_registry.cpp).
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "framework/model/encoder.h"
#include "framework/prune/pruner.h"
#include "framework/retrain/learning_curve.h"
#include "framework/retrain/retrain_data.h"
#include "framework/retrain/training_run.h"
#include "framework/util/params.h"

namespace kprune {

struct RetrainInput {
  const EncoderModel* teacher = nullptr;  // fine-tuned, unchanged; its device is used
  RetrainData data;
  Params params;      // the method's parameters, checked, defaults filled (retrain_params)
  uint64_t seed = 0;  // training seed
  std::string dir;    // the method's states and models; a rerun resumes from them
  std::ostream* log = nullptr;
};

struct RetrainOutcome {
  std::string label;                         // "DynaBERT-w", "DynaBERT-d", "EBERT"
  std::map<std::string, double> metrics;     // dev metrics of the result, x100
  double flops_before = 0, flops_after = 0;  // GFLOPs (algorithms.md 2.1, ℓ of the data)
  LearningCurve curve;                       // the result's own curve (section 3.3)
  // Seconds: pruning = importance + training + the method's other work (selection,
  // extraction, calibration); evaluations and saved states are apart.
  double pruning_seconds = 0, importance_seconds = 0, train_seconds = 0, eval_seconds = 0,
         io_seconds = 0;
  bool stopped_early = false;  // max_wall_s ended the training: a censored result
  // An ordinary (physically smaller) model when the method makes one (DynaBERT); null for
  // dynamic methods (EBERT).
  std::shared_ptr<EncoderModel> model;
  // Per-unit arrays for the results file (e.g. EBERT's dev keep rate per head, [L, H]).
  std::map<std::string, torch::Tensor> arrays;
  nlohmann::json details = nlohmann::json::object();
};

struct RetrainMethod {
  std::string name;
  std::string description;
  std::vector<PrunerParam> params;
  // Parameters that choose among the results of one shared training (DynaBERT's `variant`).
  std::vector<std::string> per_target_params;
  // The training that every FLOPs target shares, into input.dir; null when each target trains
  // on its own.
  std::function<void(const RetrainInput&)> train_shared;
  // The result for `target` (fraction of FLOPs removed), training in input.dir first when that
  // has not been done (train_shared's output is reused). A target the method cannot meet is an
  // error before any training.
  std::function<RetrainOutcome(const RetrainInput&, double target)> prune;
};

const std::vector<RetrainMethod>& retrain_methods();
// Null when `name` is not a retraining method (it may be a pruner).
const RetrainMethod* find_retrain_method(const std::string& name);

// `given` checked against the method's parameter names, with defaults for the absent ones.
Params retrain_params(const RetrainMethod& method, const Params& given);
// Those of `params` that the shared training depends on (without per_target_params).
Params shared_training_params(const RetrainMethod& method, const Params& params);

RetrainMethod dynabert_method();
RetrainMethod ebert_method();

}  // namespace kprune
