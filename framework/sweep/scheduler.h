#pragma once
// Which job runs next: the coordinator's bookkeeping, free of MPI so it can be tested alone.
// A job is handed out once the jobs it depends on are done (dependencies outside the list
// count as done: they finished in an earlier run); a failed job fails its dependents; a
// worker is preferably given jobs that share the cache key of the job it ran last.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "framework/sweep/job.h"

namespace kprune::sweep {

class Scheduler {
 public:
  // `retries`: how many times a failed job is handed out again before it counts as failed.
  Scheduler(std::vector<JobSpec> jobs, int retries, bool fail_fast);

  // The next ready job for a worker whose cache holds `worker_key`, preferring that key, then
  // keys no other worker holds (`busy_keys`); nullopt when nothing is ready or we stopped.
  std::optional<JobSpec> next(const std::string& worker_key,
                              const std::multiset<std::string>& busy_keys = {});

  struct Outcome {
    bool final = true;  // false: the job goes back to the queue for another attempt
    int attempts = 1;
    std::vector<JobSpec> dependents_failed;  // now failed with "dependency failed"
  };
  Outcome finish(const std::string& id, bool ok);

  // Hands out nothing more (SIGTERM, --fail-fast).
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }
  // Nothing is running and nothing more will be handed out.
  bool finished() const;

  int64_t total() const { return static_cast<int64_t>(jobs_.size()); }
  int64_t running() const { return running_; }
  int64_t done() const { return done_; }
  int64_t failed() const { return failed_; }

 private:
  enum class State { kPending, kRunning, kDone, kFailed };
  bool ready(size_t index) const;

  std::vector<JobSpec> jobs_;
  std::vector<State> states_;
  std::vector<int> attempts_;
  std::map<std::string, size_t> index_;
  int retries_;
  bool fail_fast_;
  bool stopped_ = false;
  int64_t running_ = 0;
  int64_t done_ = 0;
  int64_t failed_ = 0;
};

}  // namespace kprune::sweep
