#pragma once
// Every job kind the sweep program knows, registered in one place.
#include "framework/sweep/job.h"

namespace kprune::jobs {

void register_builtin_jobs(sweep::JobRegistry& registry);

}  // namespace kprune::jobs
