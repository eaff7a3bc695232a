#include "framework/sweep/job_json.h"

#include <cmath>
#include <limits>

namespace kprune::sweep {
namespace {

using nlohmann::json;

json numbers_to_json(const std::map<std::string, double>& numbers) {
  json out = json::object();
  for (const auto& [key, value] : numbers)
    out[key] = std::isfinite(value) ? json(value) : json(nullptr);
  return out;
}

double number_from_json(const json& value) {
  return value.is_null() ? std::numeric_limits<double>::quiet_NaN() : value.get<double>();
}

std::map<std::string, double> numbers_from_json(const json& object) {
  std::map<std::string, double> out;
  for (const auto& [key, value] : object.items()) out[key] = number_from_json(value);
  return out;
}

}  // namespace

json spec_to_json(const JobSpec& spec) {
  return {{"id", spec.id},
          {"kind", spec.kind},
          {"params", spec.params.items()},
          {"depends_on", spec.depends_on},
          {"cache_key", spec.cache_key}};
}

JobSpec spec_from_json(const json& object) {
  JobSpec spec;
  spec.id = object.at("id").get<std::string>();
  spec.kind = object.at("kind").get<std::string>();
  for (const auto& [key, value] : object.at("params").items())
    spec.params.set(key, value.get<std::string>());
  spec.depends_on = object.at("depends_on").get<std::vector<std::string>>();
  spec.cache_key = object.at("cache_key").get<std::string>();
  return spec;
}

json result_to_json(const JobResult& result) {
  json datasets = json::object();
  for (const auto& [name, dataset] : result.datasets) {
    json reals = json::array();
    for (double value : dataset.reals)
      reals.push_back(std::isfinite(value) ? json(value) : json(nullptr));
    datasets[name] = {{"type", static_cast<int>(dataset.type)},
                      {"shape", dataset.shape},
                      {"reals", reals},
                      {"integers", dataset.integers}};
  }
  return {{"status", result.status},
          {"error", result.error},
          {"metrics", numbers_to_json(result.metrics)},
          {"teacher_metrics", numbers_to_json(result.teacher_metrics)},
          {"times", numbers_to_json(result.times)},
          {"attrs", result.attrs},
          {"datasets", datasets}};
}

JobResult result_from_json(const json& object) {
  JobResult result;
  result.status = object.at("status").get<std::string>();
  result.error = object.at("error").get<std::string>();
  result.metrics = numbers_from_json(object.at("metrics"));
  result.teacher_metrics = numbers_from_json(object.at("teacher_metrics"));
  result.times = numbers_from_json(object.at("times"));
  result.attrs = object.at("attrs").get<std::map<std::string, std::string>>();
  for (const auto& [name, value] : object.at("datasets").items()) {
    NumericDataset dataset;
    dataset.type = static_cast<NumericDataset::Type>(value.at("type").get<int>());
    dataset.shape = value.at("shape").get<std::vector<int64_t>>();
    for (const json& real : value.at("reals")) dataset.reals.push_back(number_from_json(real));
    dataset.integers = value.at("integers").get<std::vector<int64_t>>();
    result.datasets[name] = std::move(dataset);
  }
  return result;
}

}  // namespace kprune::sweep
