#include "experiments/jobs/jobs.h"

#include "experiments/jobs/finetune_job.h"
#include "experiments/jobs/pretrain_job.h"
#include "experiments/jobs/prune_job.h"
#include "experiments/jobs/retrain_job.h"
#include "experiments/jobs/standin_job.h"

namespace kprune::jobs {

void register_builtin_jobs(sweep::JobRegistry& registry) {
  registry.add(finetune_job_kind());
  registry.add(pretrain_job_kind());
  registry.add(prune_job_kind());
  registry.add(retrain_job_kind());
  registry.add(standin_job_kind());
}

}  // namespace kprune::jobs
