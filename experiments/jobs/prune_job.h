#pragma once
// `prune`: prunes a teacher checkpoint with a registered pruner and evaluates teacher and
// pruned model on the task's dev split (the measurement of `kprune prune`). Parameters:
//   checkpoint, task, pruner, flops_reduction (required); pruner.<key> (the pruner's own);
//   seed (sample draw; also the pruner's `seed` unless pruner.seed is given);
//   sample_size (examples; default by pruner: 2048 with labels, else num_tokens / ℓ);
//   num_tokens=100000; model and tag are labels.
// A worker keeps, per cache key (checkpoint, task, seed, sample_size), the loaded teacher, the
// tokenized splits, its dev metrics and the sample sets, so a ratio grid pays for them once.
#include "framework/sweep/job.h"

namespace kprune::jobs {

sweep::JobKind prune_job_kind();

}  // namespace kprune::jobs
