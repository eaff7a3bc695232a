#pragma once
// A sweep config expanded into the list of jobs it declares.
#include <string>
#include <vector>

#include "framework/sweep/config.h"
#include "framework/sweep/job.h"

namespace kprune::sweep {

// Per grid: the cartesian product of its axes and zipped groups, times the sweep's seeds
// (for kinds that take `seed`), times the parameter grid of the job's pruner; rows matching an
// exclude rule are dropped, include rows are added. A model with a recipe adds the job that
// builds its checkpoint, which the grid's jobs depend on; `init_model` does the same for
// init_checkpoint (recipes that start from another recipe), and a kind's prerequisites (a
// training shared by several jobs) are added the same way. Jobs with equal ids appear once;
// recipe and prerequisite jobs come first. Parameters a kind does not accept are errors naming the
// line.
std::vector<JobSpec> expand_jobs(const SweepConfig& config, const JobRegistry& registry);

// The jobs named by `only` (ids) and matching every `filters` item ("key=value"), plus the
// unfinished jobs they depend on. Empty `only` and `filters` select everything.
std::vector<JobSpec> select_jobs(const std::vector<JobSpec>& jobs,
                                 const std::vector<std::string>& only,
                                 const std::vector<std::string>& filters);

}  // namespace kprune::sweep
