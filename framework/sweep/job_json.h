#pragma once
// JobSpec and JobResult as JSON: the messages between the coordinator and its workers.
// Non-finite numbers travel as null and come back as NaN.
#include <nlohmann/json.hpp>

#include "framework/sweep/job.h"

namespace kprune::sweep {

nlohmann::json spec_to_json(const JobSpec& spec);
JobSpec spec_from_json(const nlohmann::json& json);
nlohmann::json result_to_json(const JobResult& result);
JobResult result_from_json(const nlohmann::json& json);

}  // namespace kprune::sweep
