// The results file: schema, appending, reopening for resume, what a rerun skips.
#include <gtest/gtest.h>

#include <fstream>

#include "framework/sweep/resume.h"
#include "framework/sweep/store.h"
#include "framework/util/error.h"
#include "tests/test_sweep_support.h"

namespace kprune::sweep {
namespace {

RunRecord record(const std::string& task, const std::string& status) {
  RunRecord out;
  out.spec.kind = "standin";
  out.spec.params =
      Params::parse({"kind=standin", "task=" + task, "seed=3", "flops_reduction=0.5"});
  out.spec.id = job_id(out.spec.params);
  out.result.status = status;
  out.result.error = status == "failed" ? "boom" : "";
  out.result.attrs = {{"metric_name", "accuracy"}, {"host", "h"}};
  out.result.metrics = {{"accuracy", 81.5}};
  out.rank = 2;
  out.wall_time_s = 0.25;
  return out;
}

TEST(SweepStore, WritesTheSchemaThatH5pyReads) {
  const std::string path = testing::temp_dir("store") + "/r.h5";
  RunRecord with_data = record("a", "done");
  NumericDataset masks;
  masks.type = NumericDataset::Type::kFloat32;
  masks.shape = {2, 3};
  masks.reals = {1, 0, 1, 0, 1, 1};
  with_data.result.datasets["head_masks"] = masks;
  NumericDataset indices;
  indices.type = NumericDataset::Type::kInt64;
  indices.shape = {4};
  indices.integers = {7, 3, 9, 1};
  with_data.result.datasets["sample_indices"] = indices;
  {
    ResultStore store(path, "c.toml", "text");
    store.write(with_data);
    store.write(record("b", "failed"));
  }
  const auto rows = testing::read_summary_with_h5py(path);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].job_id, with_data.spec.id);
  EXPECT_EQ(rows[0].status, "done");
  EXPECT_EQ(rows[0].rank, 2);
  EXPECT_EQ(rows[1].status, "failed");
  EXPECT_EQ(rows[1].error, "boom");

  // Column order, types and the run group's contents, checked independently with h5py.
  const std::string script = testing::temp_dir("h5py") + "/check.py";
  std::ofstream(script) << R"PY(import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
s = f["summary"]
assert s.dtype.names == ("job_id", "kind", "model", "task", "pruner", "flops_reduction", "seed", "params",
    "status", "metric_name", "metric", "teacher_metric", "flops_before", "flops_after", "prune_time_s",
    "eval_time_s", "wall_time_s", "rank", "host", "start_time", "end_time", "error"), s.dtype.names
assert s.chunks is not None and s.maxshape == (None,)
r = s[0]
assert r["metric"] == 81.5 and np.isnan(r["teacher_metric"]) and r["seed"] == 3 and r["flops_reduction"] == 0.5
assert r["params"].decode() == "flops_reduction=0.5 kind=standin seed=3 task=a", r["params"]
g = f["runs"][r["job_id"].decode()]
assert g.attrs["param.task"] == "a" and g.attrs["metric.accuracy"] == 81.5 and g.attrs["rank"] == 2
assert g["head_masks"].dtype == np.float32 and g["head_masks"].shape == (2, 3)
assert list(g["sample_indices"][:]) == [7, 3, 9, 1] and g["sample_indices"].dtype == np.int64
assert f.attrs["config_text"] == "text" and f.attrs["config_path"] == "c.toml"
print("CHECKED")
)PY";
  const auto checked = testing::run_command("/usr/bin/python3 " + script + " " + path);
  EXPECT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_NE(checked.output.find("CHECKED"), std::string::npos) << checked.output;
}

TEST(SweepStore, ReopenedFileKnowsTheLastRowOfEachJob) {
  const std::string path = testing::temp_dir("store") + "/r.h5";
  {
    ResultStore store(path, "c.toml", "first");
    store.write(record("a", "done"));
    store.write(record("b", "failed"));
  }
  {
    ResultStore store(path, "c.toml", "second");
    EXPECT_EQ(store.previous_config_text(), "first");
    ASSERT_EQ(store.stored_jobs().size(), 2u);
    EXPECT_EQ(store.stored_jobs().at(record("b", "").spec.id).status, "failed");
    store.write(record("b", "done"));  // the rerun of a failed job appends a row
  }
  ResultStore reader(path);
  EXPECT_EQ(reader.stored_jobs().at(record("b", "").spec.id).status, "done");
  EXPECT_EQ(reader.previous_config_text(), "second");
  EXPECT_EQ(testing::read_summary_with_h5py(path).size(), 3u);
  EXPECT_THROW(reader.write(record("c", "done")), Error);
}

TEST(SweepStore, ResumePlanSkipsDoneJobsAndReportsChanges) {
  const RunRecord a = record("a", "done");
  const RunRecord b = record("b", "failed");
  const RunRecord c = record("c", "done");
  const std::map<std::string, StoredJob> stored{
      {a.spec.id, {"done", a.spec.params.canonical()}},
      {b.spec.id, {"failed", b.spec.params.canonical()}},
      {"00000000deadbeef", {"done", "kind=standin task=gone"}}};
  const ResumePlan plan =
      plan_resume({a.spec, b.spec, c.spec}, stored, "x = 1\ny = 2\n", "x = 1\ny = 3\n");
  ASSERT_EQ(plan.skipped.size(), 1u);
  EXPECT_EQ(plan.skipped[0].id, a.spec.id);
  ASSERT_EQ(plan.to_run.size(), 2u);
  EXPECT_EQ(plan.to_run[0].id, b.spec.id);
  EXPECT_EQ(plan.to_run[1].id, c.spec.id);
  EXPECT_EQ(plan.not_in_grid,
            (std::map<std::string, std::string>{{"00000000deadbeef", "kind=standin task=gone"}}));
  EXPECT_EQ(plan.config_changes, (std::vector<std::string>{"- y = 2", "+ y = 3"}));
  const std::string text = describe(plan, "r.h5");
  EXPECT_NE(text.find("1 of 3 jobs already done"), std::string::npos) << text;
  EXPECT_NE(text.find("00000000deadbeef"), std::string::npos) << text;
}

TEST(SweepStore, RefusesAFileThatIsNotAResultsFile) {
  const std::string path = testing::temp_dir("store") + "/not.h5";
  std::ofstream(path) << "not hdf5";
  try {
    ResultStore store(path, "c.toml", "");
    FAIL() << "opened a text file as results";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace kprune::sweep
