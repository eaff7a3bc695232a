// The coordinator's bookkeeping: dependencies, failures, retries, cache affinity.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "framework/sweep/scheduler.h"

namespace kprune::sweep {
namespace {

JobSpec job(const std::string& id, const std::string& cache_key = "",
            std::vector<std::string> depends_on = {}) {
  JobSpec spec;
  spec.id = id;
  spec.kind = "standin";
  spec.cache_key = cache_key;
  spec.depends_on = std::move(depends_on);
  return spec;
}

TEST(SweepScheduler, DependentsWaitForTheirDependency) {
  Scheduler scheduler({job("teacher"), job("a", "", {"teacher"}), job("b", "", {"teacher"})}, 0,
                      false);
  auto first = scheduler.next("");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->id, "teacher");
  EXPECT_FALSE(scheduler.next(""));  // a and b wait
  EXPECT_FALSE(scheduler.finished());
  scheduler.finish("teacher", true);
  EXPECT_EQ(scheduler.next("")->id, "a");
  EXPECT_EQ(scheduler.next("")->id, "b");
  scheduler.finish("a", true);
  scheduler.finish("b", true);
  EXPECT_TRUE(scheduler.finished());
  EXPECT_EQ(scheduler.done(), 3);
}

TEST(SweepScheduler, DependenciesOutsideTheListCountAsDone) {
  Scheduler scheduler({job("a", "", {"finished-earlier"})}, 0, false);
  EXPECT_EQ(scheduler.next("")->id, "a");
}

TEST(SweepScheduler, AFailedJobFailsItsDependentsTransitively) {
  Scheduler scheduler({job("t"), job("a", "", {"t"}), job("b", "", {"a"}), job("c")}, 0, false);
  EXPECT_EQ(scheduler.next("")->id, "t");
  const auto outcome = scheduler.finish("t", false);
  EXPECT_TRUE(outcome.final);
  ASSERT_EQ(outcome.dependents_failed.size(), 2u);
  EXPECT_EQ(outcome.dependents_failed[0].id, "a");
  EXPECT_EQ(outcome.dependents_failed[1].id, "b");
  EXPECT_EQ(scheduler.next("")->id, "c");  // the sweep goes on
  scheduler.finish("c", true);
  EXPECT_TRUE(scheduler.finished());
  EXPECT_EQ(scheduler.failed(), 3);
  EXPECT_EQ(scheduler.done(), 1);
}

TEST(SweepScheduler, RetriesRequeueBeforeCountingAFailure) {
  Scheduler scheduler({job("a")}, 2, false);
  for (int attempt = 1; attempt <= 2; ++attempt) {
    ASSERT_TRUE(scheduler.next(""));
    const auto outcome = scheduler.finish("a", false);
    EXPECT_FALSE(outcome.final);
    EXPECT_EQ(outcome.attempts, attempt);
  }
  ASSERT_TRUE(scheduler.next(""));
  const auto last = scheduler.finish("a", false);
  EXPECT_TRUE(last.final);
  EXPECT_EQ(last.attempts, 3);
  EXPECT_TRUE(scheduler.finished());
}

TEST(SweepScheduler, FailFastStopsTheHandOut) {
  Scheduler scheduler({job("a"), job("b"), job("c")}, 0, true);
  scheduler.next("");
  scheduler.next("");
  scheduler.finish("a", false);
  EXPECT_TRUE(scheduler.stopped());
  EXPECT_FALSE(scheduler.next(""));
  EXPECT_FALSE(scheduler.finished());  // b is still running
  scheduler.finish("b", true);
  EXPECT_TRUE(scheduler.finished());
}

TEST(SweepScheduler, PrefersTheWorkersCacheKeyThenKeysNobodyHolds) {
  Scheduler scheduler(
      {job("x1", "X"), job("y1", "Y"), job("x2", "X"), job("z1", "Z"), job("y2", "Y")}, 0, false);
  EXPECT_EQ(scheduler.next("Y")->id, "y1");
  EXPECT_EQ(scheduler.next("Y")->id, "y2");
  // A fresh worker while someone holds X: it takes Z rather than X's group.
  EXPECT_EQ(scheduler.next("", {"X"})->id, "z1");
  EXPECT_EQ(scheduler.next("", {"X"})->id, "x1");  // nothing else left
}

// The scheduler as a scan of the whole list per question: the semantics the indexed one
// keeps. Returns ids.
class ReferenceScheduler {
 public:
  ReferenceScheduler(std::vector<JobSpec> jobs, int retries, bool fail_fast)
      : jobs_(std::move(jobs)),
        states_(jobs_.size(), State::kPending),
        attempts_(jobs_.size(), 0),
        retries_(retries),
        fail_fast_(fail_fast) {
    for (size_t i = 0; i < jobs_.size(); ++i) index_[jobs_[i].id] = i;
  }

  std::optional<std::string> next(const std::string& worker_key,
                                  const std::multiset<std::string>& busy_keys) {
    if (stopped_) return std::nullopt;
    std::optional<size_t> same_key, free_key, any;
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
    return jobs_[*chosen].id;
  }

  // (final, attempts, ids failed with it)
  std::tuple<bool, int, std::vector<std::string>> finish(const std::string& id, bool ok) {
    const size_t index = index_.at(id);
    --running_;
    if (ok) {
      states_[index] = State::kDone;
      ++done_;
      return {true, attempts_[index], {}};
    }
    if (attempts_[index] <= retries_ && !stopped_) {
      states_[index] = State::kPending;
      return {false, attempts_[index], {}};
    }
    states_[index] = State::kFailed;
    ++failed_;
    if (fail_fast_) stopped_ = true;
    std::set<std::string> failed_ids{id};
    std::vector<std::string> dependents_failed;
    for (size_t i = 0; i < jobs_.size(); ++i) {
      if (states_[i] != State::kPending) continue;
      for (const std::string& dependency : jobs_[i].depends_on) {
        if (failed_ids.count(dependency) == 0) continue;
        states_[i] = State::kFailed;
        ++failed_;
        failed_ids.insert(jobs_[i].id);
        dependents_failed.push_back(jobs_[i].id);
        break;
      }
    }
    return {true, attempts_[index], dependents_failed};
  }

  void stop() { stopped_ = true; }
  bool finished() const {
    if (running_ > 0) return false;
    if (stopped_) return true;
    for (size_t i = 0; i < jobs_.size(); ++i)
      if (ready(i)) return false;
    return true;
  }
  int64_t running() const { return running_; }
  int64_t done() const { return done_; }
  int64_t failed() const { return failed_; }

 private:
  enum class State { kPending, kRunning, kDone, kFailed };
  bool ready(size_t index) const {
    if (states_[index] != State::kPending) return false;
    for (const std::string& dependency : jobs_[index].depends_on) {
      auto it = index_.find(dependency);
      if (it != index_.end() && states_[it->second] != State::kDone) return false;
    }
    return true;
  }

  std::vector<JobSpec> jobs_;
  std::vector<State> states_;
  std::vector<int> attempts_;
  std::map<std::string, size_t> index_;
  int retries_;
  bool fail_fast_;
  bool stopped_ = false;
  int64_t running_ = 0, done_ = 0, failed_ = 0;
};

// Random sweeps (dependencies on earlier jobs and on jobs of an earlier run, cache keys,
// failures, retries, fail-fast, stops) driven through both schedulers: every answer agrees.
TEST(SweepScheduler, ChoosesExactlyAsTheFullScan) {
  const std::vector<std::string> keys{"", "A", "B", "C", "D"};
  for (unsigned seed = 0; seed < 300; ++seed) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    std::mt19937 random(seed);
    auto chance = [&](double p) {
      return std::uniform_real_distribution<double>(0, 1)(random) < p;
    };
    auto below = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(random); };
    std::vector<JobSpec> jobs;
    const size_t count = 1 + below(60);
    for (size_t i = 0; i < count; ++i) {
      std::vector<std::string> depends_on;
      for (int d = 0; d < 2; ++d)
        if (i > 0 && chance(0.3)) depends_on.push_back(jobs[below(i)].id);
      if (chance(0.1)) depends_on.push_back("done-in-an-earlier-run");
      jobs.push_back(job("j" + std::to_string(i), keys[below(keys.size())], depends_on));
    }
    const int retries = static_cast<int>(below(3));
    const bool fail_fast = chance(0.1);
    Scheduler scheduler(jobs, retries, fail_fast);
    ReferenceScheduler reference(jobs, retries, fail_fast);
    std::vector<std::string> worker_keys(1 + below(6));
    std::map<size_t, std::string> running;  // worker -> job id
    std::map<std::string, std::string> key_of;
    for (const JobSpec& spec : jobs) key_of[spec.id] = spec.cache_key;
    for (int step = 0; step < 2000 && !reference.finished(); ++step) {
      const size_t worker = below(worker_keys.size());
      if (running.count(worker) == 0) {
        std::multiset<std::string> busy_keys;
        for (const auto& [other, id] : running) busy_keys.insert(key_of[id]);
        if (chance(0.2)) busy_keys.insert(keys[below(keys.size())]);
        const std::optional<JobSpec> chosen = scheduler.next(worker_keys[worker], busy_keys);
        const std::optional<std::string> expected = reference.next(worker_keys[worker], busy_keys);
        ASSERT_EQ(chosen.has_value(), expected.has_value());
        if (!chosen) continue;
        ASSERT_EQ(chosen->id, *expected);
        running[worker] = chosen->id;
        worker_keys[worker] = chosen->cache_key;
      } else {
        const std::string id = running[worker];
        running.erase(worker);
        const bool ok = chance(0.75);
        const Scheduler::Outcome outcome = scheduler.finish(id, ok);
        const auto [is_final, attempts, dependents_failed] = reference.finish(id, ok);
        ASSERT_EQ(outcome.final, is_final);
        ASSERT_EQ(outcome.attempts, attempts);
        std::vector<std::string> failed_ids;
        for (const JobSpec& dependent : outcome.dependents_failed)
          failed_ids.push_back(dependent.id);
        ASSERT_EQ(failed_ids, dependents_failed);
      }
      if (chance(0.005)) {
        scheduler.stop();
        reference.stop();
      }
      ASSERT_EQ(scheduler.finished(), reference.finished());
      ASSERT_EQ(scheduler.running(), reference.running());
      ASSERT_EQ(scheduler.done(), reference.done());
      ASSERT_EQ(scheduler.failed(), reference.failed());
    }
    EXPECT_TRUE(scheduler.finished());
  }
}

}  // namespace
}  // namespace kprune::sweep
