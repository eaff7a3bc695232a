#include "experiments/jobs/jobs.h"

#include "experiments/jobs/standin_job.h"

namespace kprune::jobs {

void register_builtin_jobs(sweep::JobRegistry& registry) { registry.add(standin_job_kind()); }

}  // namespace kprune::jobs
