#pragma once
// Which job runs next: the coordinator's bookkeeping, free of MPI so it can be tested alone.
// A job is handed out once the jobs it depends on are done (dependencies outside the list
// count as done: they finished in an earlier run); a failed job fails its dependents; a
// worker is preferably given jobs that share the cache key of the job it ran last.
//
// Every operation costs O(log N) for N jobs (next: plus one step per key that another worker
// holds and that has a ready job listed before the first free one), so a coordinator can hand
// out 50,000 jobs to 1,024 ranks: ready jobs are kept in index order, globally and per cache
// key, with the first ready job of each key; a job counts its unfinished dependencies.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "framework/sweep/job.h"

namespace kprune::sweep {

class Scheduler {
 public:
  // `retries`: how many times a failed job is handed out again before it counts as failed.
  // Jobs come after the jobs they depend on (as the expander lists them).
  Scheduler(std::vector<JobSpec> jobs, int retries, bool fail_fast);

  // The first ready job (in list order) for a worker whose cache holds `worker_key`: of that
  // key, else of a key no other worker holds (`busy_keys`), else any; nullopt when nothing is
  // ready or we stopped.
  std::optional<JobSpec> next(const std::string& worker_key,
                              const std::multiset<std::string>& busy_keys = {});

  struct Outcome {
    bool final = true;  // false: the job goes back to the queue for another attempt
    int attempts = 1;
    std::vector<JobSpec> dependents_failed;  // now failed with "dependency failed", in list order
  };
  Outcome finish(const std::string& id, bool ok);

  // Hands out nothing more (SIGTERM, --fail-fast).
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }
  // Nothing is running and nothing more will be handed out.
  bool finished() const { return running_ == 0 && (stopped_ || ready_.empty()); }

  int64_t total() const { return static_cast<int64_t>(jobs_.size()); }
  int64_t running() const { return running_; }
  int64_t done() const { return done_; }
  int64_t failed() const { return failed_; }

 private:
  enum class State { kPending, kRunning, kDone, kFailed };
  void add_ready(size_t index);
  void remove_ready(size_t index);

  std::vector<JobSpec> jobs_;
  std::vector<State> states_;
  std::vector<int> attempts_;
  std::vector<int> unfinished_dependencies_;     // in the list and not done
  std::vector<std::vector<size_t>> dependents_;  // jobs listing this one in depends_on
  std::unordered_map<std::string, size_t> index_;
  std::set<size_t> ready_;  // pending with every dependency done
  std::unordered_map<std::string, std::set<size_t>> ready_by_key_;
  std::set<size_t> first_ready_of_key_;  // the smallest index of each key's ready set
  int retries_;
  bool fail_fast_;
  bool stopped_ = false;
  int64_t running_ = 0;
  int64_t done_ = 0;
  int64_t failed_ = 0;
};

}  // namespace kprune::sweep
