// The coordinator's bookkeeping: dependencies, failures, retries, cache affinity.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace kprune::sweep
