#include <algorithm>

#include "framework/retrain/retrain_method.h"

namespace kprune {

const std::vector<RetrainMethod>& retrain_methods() {
  static const std::vector<RetrainMethod> registry = {dynabert_method(), ebert_method()};
  return registry;
}

const RetrainMethod* find_retrain_method(const std::string& name) {
  for (const RetrainMethod& method : retrain_methods()) {
    if (method.name == name) return &method;
  }
  return nullptr;
}

Params retrain_params(const RetrainMethod& method, const Params& given) {
  std::vector<std::string> accepted;
  for (const PrunerParam& p : method.params) accepted.push_back(p.name);
  given.check_keys(accepted, method.name);
  Params out = given;
  for (const PrunerParam& p : method.params) {
    if (!out.has(p.name)) out.set(p.name, p.default_value);
  }
  return out;
}

Params shared_training_params(const RetrainMethod& method, const Params& params) {
  Params out;
  for (const auto& [key, value] : params.items()) {
    const auto& skip = method.per_target_params;
    if (std::find(skip.begin(), skip.end(), key) == skip.end()) out.set(key, value);
  }
  return out;
}

}  // namespace kprune
