#include "framework/sweep/scheduler.h"

#include "framework/util/error.h"

namespace kprune::sweep {

Scheduler::Scheduler(std::vector<JobSpec> jobs, int retries, bool fail_fast)
    : jobs_(std::move(jobs)),
      states_(jobs_.size(), State::kPending),
      attempts_(jobs_.size(), 0),
      retries_(retries),
      fail_fast_(fail_fast) {
  for (size_t i = 0; i < jobs_.size(); ++i) index_[jobs_[i].id] = i;
}

bool Scheduler::ready(size_t index) const {
  if (states_[index] != State::kPending) return false;
  for (const std::string& dependency : jobs_[index].depends_on) {
    auto it = index_.find(dependency);
    if (it != index_.end() && states_[it->second] != State::kDone) return false;
  }
  return true;
}

std::optional<JobSpec> Scheduler::next(const std::string& worker_key,
                                       const std::multiset<std::string>& busy_keys) {
  if (stopped_) return std::nullopt;
  std::optional<size_t> same_key;
  std::optional<size_t> free_key;
  std::optional<size_t> any;
  for (size_t i = 0; i < jobs_.size() && !same_key; ++i) {
    if (!ready(i)) continue;
    const std::string& key = jobs_[i].cache_key;
    if (!worker_key.empty() && key == worker_key) same_key = i;
    if (!free_key && busy_keys.count(key) == 0) free_key = i;
    if (!any) any = i;
  }
  const std::optional<size_t> chosen = same_key ? same_key : free_key ? free_key : any;
  if (!chosen) return std::nullopt;
  states_[*chosen] = State::kRunning;
  ++attempts_[*chosen];
  ++running_;
  return jobs_[*chosen];
}

Scheduler::Outcome Scheduler::finish(const std::string& id, bool ok) {
  auto it = index_.find(id);
  if (it == index_.end() || states_[it->second] != State::kRunning) {
    fail("scheduler: a result arrived for job {}, which is not running", id);
  }
  const size_t index = it->second;
  --running_;
  Outcome outcome;
  outcome.attempts = attempts_[index];
  if (ok) {
    states_[index] = State::kDone;
    ++done_;
    return outcome;
  }
  if (attempts_[index] <= retries_ && !stopped_) {
    states_[index] = State::kPending;
    outcome.final = false;
    return outcome;
  }
  states_[index] = State::kFailed;
  ++failed_;
  if (fail_fast_) stopped_ = true;
  // Dependents come after their dependencies in the list, so one forward pass finds every
  // job that now can never run, transitively.
  std::set<std::string> failed_ids{id};
  for (size_t i = 0; i < jobs_.size(); ++i) {
    if (states_[i] != State::kPending) continue;
    for (const std::string& dependency : jobs_[i].depends_on) {
      if (failed_ids.count(dependency) == 0) continue;
      states_[i] = State::kFailed;
      ++failed_;
      failed_ids.insert(jobs_[i].id);
      outcome.dependents_failed.push_back(jobs_[i]);
      break;
    }
  }
  return outcome;
}

bool Scheduler::finished() const {
  if (running_ > 0) return false;
  if (stopped_) return true;
  for (size_t i = 0; i < jobs_.size(); ++i) {
    if (ready(i)) return false;
  }
  return true;
}

}  // namespace kprune::sweep
