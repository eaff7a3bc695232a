// The real job kinds through kprune-sweep: a finetune recipe trains a tiny teacher on the
// synthetic task (which the sweep writes itself), prune jobs prune and evaluate it, and the
// HDF5 file (read back with h5py) is checked against the pruners' own invariants: FLOPs from
// the masks and the FLOPs formulas (algorithms.md 2.1), the budget, mask shapes, the sample
// set, one teacher load per cache key. Also: resume, a failing job, every shipped config.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

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
        data = {}
        g.visititems(lambda name, item: data.__setitem__(name, item[()].tolist())
                     if isinstance(item, h5py.Dataset) else None)
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
    if (attrs.at("param.pruner") == "kprune") {  // one knowledge record per measurement
      const auto details = nlohmann::json::parse(attrs.at("details").get<std::string>());
      const auto& knowledge = details.at("knowledge");
      ASSERT_EQ(knowledge.size(), static_cast<size_t>(2 * kLayers)) << details.dump();
      EXPECT_EQ(knowledge[0].at("sublayers")[0].at("kept").get<int64_t>(), kept(head_masks[0]));
    }
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

// The retraining baselines in one grid: DynaBERT's training runs once (a retrain job the sweep
// adds) and serves both variants; EBERT trains per ratio; every job records its learning curve.
std::string write_retraining_config(const std::string& dir, const std::string& output,
                                    int64_t examples) {
  const std::string path = dir + "/" + output + ".toml";
  std::ofstream(path) << fmt::format(R"([sweep]
output = "{}/{}.h5"
device = "cpu"

[models.tiny]
recipe = {{ kind = "finetune", layers = 2, hidden = 32, heads = 4, ffn = 64, max_position = 64, steps = 40, eval_every = 40, lr = 1e-3, seed = 0 }}

[pruners.dynabert]
variant = ["w", "d"]
widths = "1,0.5"
depths = "1,0.5"
epochs_stage1 = 2
epochs_stage2 = 1
lr = 1e-3
max_train_examples = {}
evals_per_epoch = 2
save_every = 4

[pruners.ebert]
epochs = 1
lr = 1e-3
max_train_examples = {}
evals_per_epoch = 2

[grids.main]
kind = "prune"
model = "tiny"
task = "synthetic"
pruner = ["dynabert", "ebert"]
flops_reduction = 0.5
)",
                                     dir, output, examples, examples);
  return path;
}

TEST(SweepJobs, RetrainingBaselinesShareOneTrainingAndRecordCurves) {
  const std::string dir = temp_dir("sweep-retraining");
  const std::string config = write_retraining_config(dir, "results", 256);
  const CommandResult dry = run_command(kSweep + " " + config + " --dry-run");
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  // The teacher's recipe, one DynaBERT training, two DynaBERT targets and EBERT.
  EXPECT_NE(dry.output.find("5 job(s)"), std::string::npos) << dry.output;
  std::string retrain_id;
  std::istringstream lines(dry.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" retrain ") != std::string::npos) retrain_id = line.substr(0, 16);
  }
  ASSERT_FALSE(retrain_id.empty()) << dry.output;

  const CommandResult run = run_command(kSweep + " " + config);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const nlohmann::json runs = read_runs(dir + "/results.h5");
  ASSERT_EQ(runs.size(), 5u);
  std::set<std::string> labels;
  for (const auto& [id, job] : runs.items()) {
    ASSERT_EQ(job.at("status"), "done") << id << ": " << job.at("error");
    const nlohmann::json& attrs = job.at("attrs");
    if (attrs.at("kind") != "prune") continue;
    const std::string label = attrs.at("label");
    labels.insert(label);
    const nlohmann::json& data = job.at("data");
    const auto t = data.at("curve/t").get<std::vector<double>>();
    const auto metric = data.at("curve/metric").get<std::vector<double>>();
    const auto steps = data.at("curve/step").get<std::vector<int64_t>>();
    const auto reduction = data.at("curve/flops_reduction").get<std::vector<double>>();
    ASSERT_GE(t.size(), 3u) << label;
    EXPECT_EQ(metric.size(), t.size());
    EXPECT_EQ(steps.front(), 0);
    for (size_t i = 1; i < t.size(); ++i) {
      EXPECT_GE(t[i], t[i - 1]) << label;
      EXPECT_GT(steps[i], steps[i - 1]) << label;
    }
    // The pruning time is the whole training's, evaluations excluded: at least the last point.
    const double prune_time = attrs.at("time.prune");
    EXPECT_GE(prune_time, t.back()) << label;
    EXPECT_LT(prune_time, t.back() + attrs.at("time.eval").get<double>()) << label;
    EXPECT_DOUBLE_EQ(job.at("metric").get<double>(), metric.back()) << label;
    const double ratio = job.at("flops_after").get<double>() / job.at("flops_before").get<double>();
    const nlohmann::json details = nlohmann::json::parse(attrs.at("details").get<std::string>());
    EXPECT_NEAR(1 - ratio, details.at("flops_reduction").get<double>(), 1e-9) << label;
    EXPECT_NEAR(reduction.back(), details.at("flops_reduction").get<double>(), 1e-9) << label;
    if (label == "EBERT") {
      EXPECT_EQ(data.at("gate_head_keep").size(), 2u);
    } else {
      EXPECT_DOUBLE_EQ(1 - ratio, 0.5) << label;  // (0.5, 1) and (1, 0.5)
      EXPECT_EQ(data.at("curve/stage").get<std::vector<int64_t>>().back(), 2);
      EXPECT_NE(attrs.at("training_dir").get<std::string>().find(retrain_id), std::string::npos);
    }
  }
  EXPECT_EQ(labels, (std::set<std::string>{"DynaBERT-d", "DynaBERT-w", "EBERT"}));
  EXPECT_TRUE(std::filesystem::exists(dir + "/results.artifacts/" + retrain_id +
                                      "/model/model.safetensors"));
}

// A sweep killed while DynaBERT trains resumes the training from its saved state and ends with
// the weights of an uninterrupted sweep.
TEST(SweepJobs, AKilledRetrainingJobResumesToTheUninterruptedWeights) {
  const std::string dir = temp_dir("sweep-retraining-kill");
  const std::string whole = write_retraining_config(dir, "whole", 2048);
  const std::string parts = write_retraining_config(dir, "parts", 2048);
  ASSERT_EQ(run_command(kSweep + " " + whole + " --filter pruner.variant=w").exit_code, 0);

  const pid_t child = fork();
  if (child < 0) throw std::runtime_error("fork failed");
  if (child == 0) {
    const std::string log = dir + "/killed.log";
    if (freopen(log.c_str(), "w", stdout) == nullptr || dup2(fileno(stdout), fileno(stderr)) < 0) {
      _exit(126);
    }
    execl(kSweep.c_str(), kSweep.c_str(), parts.c_str(), "--filter", "pruner.variant=w",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Kill once the training has saved a state part-way through stage 1.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  bool saved = false;
  while (!saved && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!std::filesystem::exists(dir + "/parts.artifacts")) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir + "/parts.artifacts")) {
      saved = saved || std::filesystem::exists(entry.path() / "stage1-state.pt");
    }
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(saved) << "no training state appeared";
  ASSERT_TRUE(WIFSIGNALED(status));

  const CommandResult rerun = run_command(kSweep + " " + parts + " --filter pruner.variant=w");
  ASSERT_EQ(rerun.exit_code, 0) << rerun.output;
  // The two sweeps write to different artifacts folders, so their training jobs differ in id.
  auto trained_model = [&](const std::string& artifacts) {
    std::string found;
    for (const auto& entry : std::filesystem::directory_iterator(artifacts)) {
      if (std::filesystem::exists(entry.path() / "dynabert.json")) {
        EXPECT_TRUE(found.empty()) << "two DynaBERT trainings in " << artifacts;
        found = (entry.path() / "model" / "model.safetensors").string();
      }
    }
    return found;
  };
  const std::string a = trained_model(dir + "/whole.artifacts");
  const std::string b = trained_model(dir + "/parts.artifacts");
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  EXPECT_TRUE(read_file(a) == read_file(b)) << "the resumed DynaBERT differs";
}

// A teacher checkpoint replaced while the sweep runs (issue 19): every job records the sha256
// of the weights it read, the coordinator warns, and a job that read during the replacement
// fails with a message instead of recording a sha256 that does not describe its weights.
TEST(SweepJobs, ACheckpointReplacedMidSweepShowsInTheRecordedSha256) {
  const std::string dir = temp_dir("sweep-replaced");
  std::ofstream(dir + "/teachers.toml") << fmt::format(R"([sweep]
output = "{0}/teachers.h5"
device = "cpu"

[grids.teachers]
kind = "finetune"
task = "synthetic"
layers = {1}
hidden = {2}
heads = {3}
ffn = {4}
max_position = 64
steps = 20
eval_every = 20
lr = 1e-3
seed = [0, 1]
)",
                                                       dir, kLayers, kHidden, kHeads, kFfn);
  const CommandResult teachers = run_command(kSweep + " " + dir + "/teachers.toml");
  ASSERT_EQ(teachers.exit_code, 0) << teachers.output;
  std::vector<std::string> trained;
  for (const auto& entry : std::filesystem::directory_iterator(dir + "/teachers.artifacts"))
    if (std::filesystem::exists(entry.path() / "model.safetensors"))
      trained.push_back(entry.path());
  ASSERT_EQ(trained.size(), 2u);
  const std::string teacher = dir + "/teacher";
  std::filesystem::copy(trained[0], teacher);
  auto sha_of = [](const std::string& file) {
    return run_command("sha256sum " + file).output.substr(0, 64);
  };
  const std::string old_sha = sha_of(teacher + "/model.safetensors");
  const std::string new_sha = sha_of(trained[1] + "/model.safetensors");
  ASSERT_NE(old_sha, new_sha);

  // Each seed is its own cache key: its first job loads the teacher again.
  std::ofstream(dir + "/prune.toml") << fmt::format(R"([sweep]
output = "{0}/prune.h5"
device = "cpu"
sample_size = 32
seeds = [0, 1, 2, 3, 4, 5]

[models.tiny]
checkpoint = "{1}"

[grids.main]
kind = "prune"
model = "tiny"
task = "synthetic"
pruner = "magnitude"
flops_reduction = [0.3, 0.5]
)",
                                                    dir, teacher);
  const pid_t child = fork();
  if (child < 0) throw std::runtime_error("fork failed");
  if (child == 0) {
    const std::string log = dir + "/prune.log";
    if (freopen(log.c_str(), "w", stdout) == nullptr || dup2(fileno(stdout), fileno(stderr)) < 0) {
      _exit(126);
    }
    const std::string config = dir + "/prune.toml";
    execl(kSweep.c_str(), kSweep.c_str(), config.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Replace the weights (a new file moved over the old, as a copy tool does) once the first
  // job has ended.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool first_done = false;
  while (!first_done && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!std::filesystem::exists(dir + "/prune.logs")) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir + "/prune.logs"))
      first_done = first_done || read_file(entry.path()).find(" done after ") != std::string::npos;
  }
  std::filesystem::copy_file(trained[1] + "/model.safetensors", teacher + "/new.safetensors");
  std::filesystem::rename(teacher + "/new.safetensors", teacher + "/model.safetensors");
  int status = 0;
  waitpid(child, &status, 0);
  const std::string log = read_file(dir + "/prune.log");
  ASSERT_TRUE(first_done) << log;
  ASSERT_TRUE(WIFEXITED(status)) << log;

  std::map<std::string, int> jobs_by_sha;
  const nlohmann::json runs = read_runs(dir + "/prune.h5");
  for (const auto& [id, job] : runs.items()) {
    if (job.at("status") == "done") {
      ++jobs_by_sha[job.at("attrs").at("checkpoint_sha256")];
    } else {
      EXPECT_NE(job.at("error").get<std::string>().find("changed while the job read it"),
                std::string::npos)
          << job.at("error");
    }
  }
  EXPECT_GE(jobs_by_sha[old_sha], 1) << log;
  EXPECT_GE(jobs_by_sha[new_sha], 1) << log;
  EXPECT_EQ(jobs_by_sha.size(), 2u) << log;
  EXPECT_NE(log.find("WARNING: checkpoint " + teacher + " changed during the sweep"),
            std::string::npos)
      << log;
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
