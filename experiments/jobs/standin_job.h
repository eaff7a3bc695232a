#pragma once
// `standin`: a job of known cost and outcome, shaped like a prune job, for tests and for
// measuring the sweep machinery itself. Parameters:
//   duration_s=0.1       sleeps this long (the job's own work)
//   teacher_s=0          extra cost paid once per cache key on a worker (the teacher)
//   fail=true            throws after sleeping
//   crash=true           kills its own process with SIGKILL (a hard crash)
//   metric=50            reported as metric accuracy; teacher_metric=90 likewise
//   mask_shape=LxH       emits head_masks [L, H] (float32, unit i kept when i is even)
//   sample_size=N        emits sample_indices [N] (seed, seed+1, ...)
// and, untouched, the parameters of a prune job: model, task, checkpoint, seed, pruner,
// pruner.*, flops_reduction, tag.
#include "framework/sweep/job.h"

namespace kprune::jobs {

sweep::JobKind standin_job_kind();

}  // namespace kprune::jobs
