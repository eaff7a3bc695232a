#include "framework/sweep/scheduler.h"

#include <algorithm>
#include <iterator>

#include "framework/util/error.h"

namespace kprune::sweep {

Scheduler::Scheduler(std::vector<JobSpec> jobs, int retries, bool fail_fast)
    : jobs_(std::move(jobs)),
      states_(jobs_.size(), State::kPending),
      attempts_(jobs_.size(), 0),
      unfinished_dependencies_(jobs_.size(), 0),
      dependents_(jobs_.size()),
      retries_(retries),
      fail_fast_(fail_fast) {
  for (size_t i = 0; i < jobs_.size(); ++i) index_[jobs_[i].id] = i;
  for (size_t i = 0; i < jobs_.size(); ++i) {
    for (const std::string& dependency : jobs_[i].depends_on) {
      auto it = index_.find(dependency);
      if (it == index_.end()) continue;
      ++unfinished_dependencies_[i];
      dependents_[it->second].push_back(i);
    }
  }
  for (size_t i = 0; i < jobs_.size(); ++i)
    if (unfinished_dependencies_[i] == 0) add_ready(i);
}

void Scheduler::add_ready(size_t index) {
  ready_.insert(index);
  std::set<size_t>& of_key = ready_by_key_[jobs_[index].cache_key];
  if (!of_key.empty() && *of_key.begin() < index) {
    of_key.insert(index);
    return;
  }
  if (!of_key.empty()) first_ready_of_key_.erase(*of_key.begin());
  of_key.insert(index);
  first_ready_of_key_.insert(index);
}

void Scheduler::remove_ready(size_t index) {
  ready_.erase(index);
  auto key = ready_by_key_.find(jobs_[index].cache_key);
  std::set<size_t>& of_key = key->second;
  if (*of_key.begin() == index) {
    first_ready_of_key_.erase(index);
    if (of_key.size() > 1) first_ready_of_key_.insert(*std::next(of_key.begin()));
  }
  of_key.erase(index);
  if (of_key.empty()) ready_by_key_.erase(key);
}

std::optional<JobSpec> Scheduler::next(const std::string& worker_key,
                                       const std::multiset<std::string>& busy_keys) {
  if (stopped_ || ready_.empty()) return std::nullopt;
  std::optional<size_t> chosen;
  if (!worker_key.empty()) {
    auto same_key = ready_by_key_.find(worker_key);
    if (same_key != ready_by_key_.end()) chosen = *same_key->second.begin();
  }
  if (!chosen) {
    // The first ready job of a free key is the first of the keys' first ready jobs whose
    // key nobody holds.
    for (size_t first : first_ready_of_key_) {
      if (busy_keys.count(jobs_[first].cache_key) != 0) continue;
      chosen = first;
      break;
    }
  }
  if (!chosen) chosen = *ready_.begin();
  remove_ready(*chosen);
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
    for (size_t dependent : dependents_[index]) {
      if (--unfinished_dependencies_[dependent] == 0 && states_[dependent] == State::kPending)
        add_ready(dependent);
    }
    return outcome;
  }
  if (attempts_[index] <= retries_ && !stopped_) {
    states_[index] = State::kPending;
    add_ready(index);
    outcome.final = false;
    return outcome;
  }
  states_[index] = State::kFailed;
  ++failed_;
  if (fail_fast_) stopped_ = true;
  // Every pending job that waits for it, transitively, can never run. None of them is ready
  // (each waits for a job that is not done).
  std::vector<size_t> failed_now;
  std::vector<size_t> to_visit{index};
  while (!to_visit.empty()) {
    const size_t visited = to_visit.back();
    to_visit.pop_back();
    for (size_t dependent : dependents_[visited]) {
      if (states_[dependent] != State::kPending) continue;
      states_[dependent] = State::kFailed;
      ++failed_;
      failed_now.push_back(dependent);
      to_visit.push_back(dependent);
    }
  }
  std::sort(failed_now.begin(), failed_now.end());
  for (size_t dependent : failed_now) outcome.dependents_failed.push_back(jobs_[dependent]);
  return outcome;
}

}  // namespace kprune::sweep
