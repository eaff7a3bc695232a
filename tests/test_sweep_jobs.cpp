// The real job kinds through kprune-sweep: a finetune recipe trains a tiny teacher on the
// synthetic task (which the sweep writes itself), prune jobs prune and evaluate it, and the
// HDF5 file (read back with h5py) is checked against the pruners' own invariants: FLOPs from
// the masks and the FLOPs formulas (algorithms.md 2.1), the budget, mask shapes, the sample
// set, one teacher load per cache key. Also: resume, a failing job, every shipped config.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "framework/util/files.h"
#include "tests/test_sweep_support.h"

namespace kprune::testing {
namespace {

const std::string kSweep = KPRUNE_SWEEP_BIN;

// The tiny teacher's shape.
constexpr int64_t kLayers = 2, kHidden = 32, kHeads = 2, kFfn = 64;
constexpr int64_t kSampleSize = 64;

std::string write_config(const std::string& dir) {
  const std::string path = dir + "/jobs.toml";
  std::ofstream(path) << fmt::format(R"([sweep]
output = "{}/results.h5"
device = "cpu"
sample_size = {}

[models.tiny]
recipe = {{ kind = "finetune", layers = {}, hidden = {}, heads = {}, ffn = {}, max_position = 64, steps = 40, eval_every = 40, lr = 1e-3, seed = 0 }}

[grids.main]
kind = "prune"
model = "tiny"
task = "synthetic"
pruner = ["kprune", "magnitude", "kwon"]
flops_reduction = [0.3, 0.6]

[[grids.main.exclude]]
pruner = "kwon"
flops_reduction = 0.3

[[grids.main.include]]
pruner = "magnitude"
flops_reduction = 0.5
"pruner.bogus" = 1
)",
                                     dir, kSampleSize, kLayers, kHidden, kHeads, kFfn);
  return path;
}

// Every /runs group as JSON (last summary row per job wins), read with h5py.
nlohmann::json read_runs(const std::string& path) {
  const std::string script = temp_dir("h5py-jobs") + "/runs.py";
  std::ofstream(script) << R"PY(import json, math, sys
import h5py
def clean(x):  # NaN (no value) -> null
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, dict):
        return {k: clean(v) for k, v in x.items()}
    return x
out = {}
with h5py.File(sys.argv[1], "r") as f:
    for row in f["summary"][:]:
        job = row["job_id"].decode()
        g = f["runs"][job]
        attrs = {k: (v.decode() if isinstance(v, bytes) else v.item() if hasattr(v, "item") else v)
                 for k, v in g.attrs.items()}
        data = {k: g[k][()].tolist() for k in g.keys()}
        out[job] = {"status": row["status"].decode(), "error": row["error"].decode(),
                    "metric": float(row["metric"]), "teacher_metric": float(row["teacher_metric"]),
                    "flops_before": float(row["flops_before"]), "flops_after": float(row["flops_after"]),
                    "attrs": attrs, "data": data}
print(json.dumps(clean(out)))
)PY";
  const CommandResult result = run_command("/usr/bin/python3 " + script + " " + path);
  if (result.exit_code != 0) {
    ADD_FAILURE() << "h5py could not read " << path << ":\n" << result.output;
    return nlohmann::json::object();
  }
  return nlohmann::json::parse(result.output);
}

int64_t kept(const std::vector<double>& row) {
  int64_t n = 0;
  for (double v : row) n += v != 0 ? 1 : 0;
  return n;
}

TEST(SweepJobs, ATinyRealSweepRecordsWhatThePrunersGuarantee) {
  const std::string dir = temp_dir("sweep-jobs");
  const std::string config = write_config(dir);
  const CommandResult run = run_command(kSweep + " " + config);
  // 1 recipe + 5 prune jobs, one of which fails on its bad parameter.
  ASSERT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("6 done, 1 failed"), std::string::npos) << run.output;
  const nlohmann::json runs = read_runs(dir + "/results.h5");
  ASSERT_EQ(runs.size(), 7u) << run.output;

  int prune_jobs = 0, paid_teacher = 0;
  double teacher_metric = std::nan("");
  for (const auto& [id, job] : runs.items()) {
    const nlohmann::json& attrs = job.at("attrs");
    const std::string kind = attrs.at("kind");
    if (kind == "finetune") {
      EXPECT_EQ(job.at("status"), "done") << job.at("error");
      EXPECT_EQ(attrs.at("metric_name"), "accuracy");
      EXPECT_TRUE(std::filesystem::exists(dir + "/results.artifacts/" + id + "/model.safetensors"));
      continue;
    }
    ASSERT_EQ(kind, "prune");
    if (attrs.contains("param.pruner.bogus")) {
      EXPECT_EQ(job.at("status"), "failed");
      EXPECT_NE(job.at("error").get<std::string>().find("bogus"), std::string::npos)
          << job.at("error");
      continue;
    }
    ASSERT_EQ(job.at("status"), "done") << job.at("error");
    ++prune_jobs;
    const double ratio = std::stod(attrs.at("param.flops_reduction").get<std::string>());
    const double before = job.at("flops_before"), after = job.at("flops_after");
    const double metric = job.at("metric");
    EXPECT_GE(metric, 0);
    EXPECT_LE(metric, 100);
    // The same cached teacher for every job.
    ASSERT_TRUE(job.at("teacher_metric").is_number()) << id;
    if (std::isnan(teacher_metric)) teacher_metric = job.at("teacher_metric");
    EXPECT_EQ(job.at("teacher_metric").get<double>(), teacher_metric);
    if (attrs.at("teacher_loaded") == "true") ++paid_teacher;

    // FLOPs from the formulas with the recorded ℓ, and from the final masks.
    const double l = std::stod(attrs.at("flops_seq_len").get<std::string>());
    const double d_h = static_cast<double>(kHidden / kHeads);
    const double head = (8.0 * kHidden * d_h * l + 4.0 * d_h * l * l) / 1e9;
    const double neuron = 4.0 * l * kHidden / 1e9;
    EXPECT_NEAR(before, kLayers * (kHeads * head + kFfn * neuron), 1e-9 * before);
    const auto head_masks = job.at("data").at("head_masks").get<std::vector<std::vector<double>>>();
    const auto neuron_masks =
        job.at("data").at("neuron_masks").get<std::vector<std::vector<double>>>();
    ASSERT_EQ(head_masks.size(), static_cast<size_t>(kLayers));
    ASSERT_EQ(neuron_masks.size(), static_cast<size_t>(kLayers));
    double from_masks = 0;
    for (int64_t i = 0; i < kLayers; ++i) {
      ASSERT_EQ(head_masks[i].size(), static_cast<size_t>(kHeads));
      ASSERT_EQ(neuron_masks[i].size(), static_cast<size_t>(kFfn));
      from_masks += kept(head_masks[i]) * head + kept(neuron_masks[i]) * neuron;
    }
    EXPECT_NEAR(after, from_masks, 1e-6 * before) << id;
    // Under the budget, and short of it by less than the largest unit (a head).
    EXPECT_LE(after, (1 - ratio) * before * (1 + 1e-6)) << id;
    EXPECT_GT(after, (1 - ratio) * before - head) << id;
    EXPECT_GT(attrs.at("time.prune").get<double>(), 0);

    const auto indices = job.at("data").at("sample_indices").get<std::vector<int64_t>>();
    ASSERT_EQ(indices.size(), static_cast<size_t>(kSampleSize));
    for (int64_t index : indices) {
      EXPECT_GE(index, 0);
      EXPECT_LT(index, 8000);  // the synthetic training set
    }
    EXPECT_EQ(attrs.at("checkpoint_sha256").get<std::string>().size(), 64u);
  }
  EXPECT_EQ(prune_jobs, 5);
  EXPECT_EQ(paid_teacher, 1) << "one process: only the first prune job loads the teacher";

  // Resume: only the failed job runs again (and fails again).
  const CommandResult rerun = run_command(kSweep + " " + config);
  EXPECT_EQ(rerun.exit_code, 1) << rerun.output;
  EXPECT_NE(rerun.output.find("0 done, 1 failed, 6 skipped"), std::string::npos) << rerun.output;
}

// [data].synthetic_squad = "": the QA task reads synthetic SQuAD data that the sweep writes under
// its artifacts folder (the bytes of make-synthetic --task squad --train 2000 --dev 250).
TEST(SweepJobs, AQaSweepWritesTheSyntheticSquadDataItself) {
  const std::string dir = temp_dir("sweep-jobs-qa");
  const std::string config = dir + "/qa.toml";
  std::ofstream(config) << fmt::format(R"([sweep]
output = "{}/results.h5"
device = "cpu"
sample_size = 24

[data]
synthetic_squad = ""

[models.tiny]
recipe = {{ kind = "finetune", layers = 1, hidden = 32, heads = 2, ffn = 64, max_position = 128, max_seq_len = 128, doc_stride = 32, steps = 20, eval_every = 20, lr = 3e-3, seed = 0 }}

[grids.main]
kind = "prune"
model = "tiny"
task = "squad"
pruner = "kprune"
flops_reduction = 0.4
)",
                                       dir);
  const CommandResult run = run_command(kSweep + " " + config);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("2 done"), std::string::npos) << run.output;
  const std::string data = dir + "/results.artifacts/data-squad";
  EXPECT_TRUE(std::filesystem::exists(data + "/vocab.txt"));
  EXPECT_TRUE(std::filesystem::exists(data + "/v1.1/train-v1.1.json"));
  const nlohmann::json runs = read_runs(dir + "/results.h5");
  ASSERT_EQ(runs.size(), 2u);
  for (const auto& [job, result] : runs.items()) {
    EXPECT_EQ(result.at("status"), "done") << result.at("error");
    EXPECT_EQ(result.at("attrs").at("metric_name"), "f1") << job;
  }
}

// A pretrain recipe may start from another pretrain model: a further phase, run after it.
TEST(SweepJobs, APretrainPhaseStartsFromTheCheckpointOfTheOneBefore) {
  const std::string dir = temp_dir("sweep-phases");
  write_file_atomic(dir + "/phases.toml", R"([sweep]
name = "phases"
output = "phases.h5"

[models.short-rows]
recipe = { kind = "pretrain", layers = 2, hidden = 32, heads = 2, ffn = 64, seq_len = 16, steps = 4 }

[models.long-rows]
recipe = { kind = "pretrain", init_model = "short-rows", seq_len = 32, steps = 4 }

[grids.teachers]
kind = "finetune"
task = "sst2"
init_model = "long-rows"
)");
  const CommandResult dry =
      run_command(kSweep + " " + dir + "/phases.toml --dry-run sweep.output=" + dir + "/phases.h5");
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  std::map<std::string, std::string> id_of;  // model or kind -> job id
  std::map<std::string, std::string> line_of;
  std::istringstream lines(dry.output);
  for (std::string line; std::getline(lines, line);) {
    const std::string id = line.substr(0, line.find(' '));
    for (const char* label : {"model=short-rows", "model=long-rows", "kind=finetune"}) {
      if (line.find(label) != std::string::npos) {
        id_of[label] = id;
        line_of[label] = line;
      }
    }
  }
  ASSERT_EQ(id_of.size(), 3u) << dry.output;
  const std::string first = id_of["model=short-rows"], second = id_of["model=long-rows"];
  EXPECT_NE(
      line_of["model=long-rows"].find("init_checkpoint=" + dir + "/phases.artifacts/" + first),
      std::string::npos)
      << dry.output;
  EXPECT_NE(line_of["model=long-rows"].find("(after " + first + ")"), std::string::npos);
  EXPECT_NE(line_of["kind=finetune"].find("(after " + second + ")"), std::string::npos);
}

TEST(SweepJobs, EveryShippedConfigExpands) {
  const std::string out = temp_dir("sweep-configs");
  int configs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(KPRUNE_CONFIGS_DIR)) {
    if (entry.path().extension() != ".toml") continue;
    ++configs;
    const CommandResult dry = run_command(kSweep + " " + entry.path().string() +
                                          " --dry-run sweep.output=" + out + "/none.h5");
    EXPECT_EQ(dry.exit_code, 0) << entry.path() << ":\n" << dry.output;
    EXPECT_NE(dry.output.find("already done in"), std::string::npos) << dry.output;
  }
  EXPECT_GE(configs, 6);
}

}  // namespace
}  // namespace kprune::testing
