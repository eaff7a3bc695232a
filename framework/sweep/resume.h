#pragma once
// What a rerun of a sweep does with an existing results file: skip the jobs that finished,
// rerun the failed and missing ones, and say how the grid or the config changed.
#include <map>
#include <string>
#include <vector>

#include "framework/sweep/job.h"
#include "framework/sweep/store.h"

namespace kprune::sweep {

struct ResumePlan {
  std::vector<JobSpec> to_run;
  std::vector<JobSpec> skipped;  // status done in the file
  // Jobs in the file that the grid no longer declares: id -> stored params.
  std::map<std::string, std::string> not_in_grid;
  std::vector<std::string> config_changes;  // "- old line" / "+ new line"
};

ResumePlan plan_resume(const std::vector<JobSpec>& jobs,
                       const std::map<std::string, StoredJob>& stored,
                       const std::string& previous_config_text, const std::string& config_text);

// A few lines for the user: skipped count, the grid and config changes (empty when none).
std::string describe(const ResumePlan& plan, const std::string& output);

}  // namespace kprune::sweep
