#pragma once
// The check of a whole sweep before any job runs (kprune-sweep --check, and rank 0 at the start
// of every run): every input its jobs need, the output folder, ranks and devices, reported as
// one list grouped by kind, each problem with the place in the config that asked for it.
#include <map>
#include <string>
#include <vector>

#include "framework/sweep/config.h"
#include "framework/sweep/job.h"

namespace kprune::sweep {

struct PreflightOptions {
  int world_size = 1;
  // At the start of a run: MPI ranks against Slurm's tasks, the device against the visible GPUs.
  // Not on a login node (--check), where neither is the compute nodes'.
  bool check_ranks_and_devices = true;
};

struct PreflightProblem {
  InputProblem input;
  std::string where;                 // "configs/glue.toml:14", the key that asked for it
  std::vector<std::string> job_ids;  // the jobs that need it; empty: the whole sweep
};

struct PreflightReport {
  size_t jobs_checked = 0;
  std::vector<PreflightProblem> problems;  // one per distinct (category, key, path, what)
  // Every job that cannot run: its first problem, or the job it waits for that cannot run.
  std::map<std::string, std::string> blocked;
  bool ok() const { return problems.empty(); }
};

// Checks `to_run` (the jobs a run would start: not done before). Paths that any job of
// `all_jobs` writes under the artifacts folder count as present.
PreflightReport preflight(const SweepConfig& config, const std::vector<JobSpec>& all_jobs,
                          const std::vector<JobSpec>& to_run, const JobRegistry& registry,
                          const PreflightOptions& options);

// The report as printed: a headline, the problems grouped by category, what to do.
std::string format_preflight(const PreflightReport& report, const SweepConfig& config);

// Where in the config the job's `key` was given: "configs/glue.toml:14", or the file and what
// default applied.
std::string config_location(const SweepConfig& config, const JobSpec& job, const std::string& key);

}  // namespace kprune::sweep
