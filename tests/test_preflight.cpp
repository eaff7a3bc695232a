// kprune-sweep --check (framework/sweep/preflight, experiments/jobs/input_checks): every kind of
// problem is listed with the config line that asked for it, all in one message, before any job
// runs; what an earlier job of the sweep writes counts as present; --dry-run marks the jobs that
// cannot run and --skip-missing records them as skipped.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "tests/test_sweep_support.h"

namespace kprune::testing {
namespace {

namespace fs = std::filesystem;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class Preflight : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("preflight");
    glue_ = shared_path("data/glue");
    ASSERT_TRUE(fs::exists(glue_ + "/SST-2/dev.tsv")) << glue_ << ": the shared GLUE data";
  }

  // A teacher folder made of a golden fixture: the Kwon et al. oracle's 2-class (or regression)
  // checkpoint, with a vocabulary.
  std::string teacher(const std::string& name, const std::string& fixture = "cls2",
                      bool vocab = true, bool weights = true) {
    const fs::path out = fs::path(dir_) / name;
    fs::create_directories(out);
    const fs::path from = shared_path("fixtures/kwon-oracle/" + fixture);
    fs::copy_file(from / "config.json", out / "config.json");
    if (weights) fs::copy_file(from / "model.safetensors", out / "model.safetensors");
    if (vocab) std::ofstream(out / "vocab.txt") << "[PAD]\n[UNK]\n[CLS]\n[SEP]\n";
    return out.string();
  }

  std::string write_config(const std::string& text) {
    const std::string path = dir_ + "/sweep.toml";
    std::ofstream(path) << text;
    return path;
  }

  // One stand-in job (and its stand-in teacher) after two [sweep] lines: `sweep_lines` are lines
  // 2 and 3 of the file.
  std::string standin_config(const std::string& sweep_lines) {
    return write_config(fmt::format(
        "[sweep]\n{}\n[models.teacher]\nrecipe = {{ kind = \"standin\" }}\n[grids.main]\n"
        "kind = \"standin\"\nmodel = \"teacher\"\ntask = \"sst2\"\npruner = \"random\"\n"
        "flops_reduction = 0.5\n",
        sweep_lines));
  }

  CommandResult sweep(const std::string& config, const std::string& flags) {
    return run_command(fmt::format("cd {} && {} {} {}", dir_, KPRUNE_SWEEP_BIN, config, flags));
  }

  std::string dir_;
  std::string glue_;
};

TEST_F(Preflight, EveryCheckpointProblemIsListedWithItsConfigLineInOneMessage) {
  const std::string good = teacher("good");
  const std::string no_vocab = teacher("novocab", "cls2", false);
  const std::string no_weights = teacher("noweights", "cls2", true, false);
  const std::string regression = teacher("regression", "reg");
  const std::string config = write_config(
      fmt::format("[sweep]\n"                             // 1
                  "output = \"{0}/out/r.h5\"\n"           // 2
                  "[data]\n"                              // 3
                  "glue = \"{1}\"\n"                      // 4
                  "[models.good]\n"                       // 5
                  "checkpoint = \"{2}\"\n"                // 6
                  "[models.absent]\n"                     // 7
                  "checkpoint = \"{0}/absent\"\n"         // 8
                  "[models.novocab]\n"                    // 9
                  "checkpoint = \"{3}\"\n"                // 10
                  "[models.noweights]\n"                  // 11
                  "checkpoints = {{ sst2 = \"{4}\" }}\n"  // 12
                  "[models.regression]\n"                 // 13
                  "checkpoint = \"{5}\"\n"                // 14
                  "[grids.main]\n"                        // 15
                  "kind = \"prune\"\n"                    // 16
                  "model = [\"good\", \"absent\", \"novocab\", \"noweights\", \"regression\"]\n"
                  "task = \"sst2\"\n"
                  "pruner = \"kwon\"\n"
                  "flops_reduction = [0.4, 0.5]\n",
                  dir_, glue_, good, no_vocab, no_weights, regression));
  const CommandResult result = sweep(config, "--check");
  const std::string& out = result.output;
  EXPECT_EQ(result.exit_code, 2) << out;
  EXPECT_TRUE(contains(out, "4 problem(s); 8 of 10 job(s) cannot run")) << out;
  EXPECT_TRUE(contains(out, dir_ + "/absent: not a directory")) << out;
  EXPECT_TRUE(contains(out, fmt::format("asked by {}:8 (checkpoint), 2 job(s)", config))) << out;
  EXPECT_TRUE(contains(out, no_vocab + ": missing vocab.txt")) << out;
  EXPECT_TRUE(contains(out, fmt::format("asked by {}:10 (checkpoint)", config))) << out;
  EXPECT_TRUE(contains(out, no_weights + ": missing model.safetensors")) << out;
  EXPECT_TRUE(contains(out, fmt::format("asked by {}:12 (checkpoint)", config))) << out;
  EXPECT_TRUE(contains(out, regression + ": the model has a regression head with 1 label(s), "
                                         "but task sst2 needs a classification head with 2 "
                                         "label(s)"))
      << out;
  EXPECT_TRUE(contains(out, fmt::format("asked by {}:14 (checkpoint)", config))) << out;
  EXPECT_FALSE(contains(out, good + ":")) << "the good teacher is not a problem\n" << out;
  EXPECT_TRUE(contains(out, "configs/mini-glue.toml")) << "what to run instead\n" << out;
  EXPECT_FALSE(fs::exists(dir_ + "/out")) << "--check writes nothing";
}

TEST_F(Preflight, MissingDataFoldersAndSplitFilesAreNamedWithTheirDataEntry) {
  const std::string good = teacher("good");
  fs::create_directories(dir_ + "/partial/SST-2");
  fs::copy_file(glue_ + "/SST-2/train.tsv", dir_ + "/partial/SST-2/train.tsv");
  const std::string config =
      write_config(fmt::format("[sweep]\n"                      // 1
                               "output = \"{0}/r.h5\"\n"        // 2
                               "[data]\n"                       // 3
                               "sst2 = \"{0}/partial\"\n"       // 4
                               "glue = \"{0}/nodata\"\n"        // 5
                               "[models.m]\n"                   // 6
                               "checkpoint = \"{1}\"\n"         // 7
                               "[grids.main]\n"                 // 8
                               "kind = \"prune\"\n"             // 9
                               "model = \"m\"\n"                // 10
                               "task = [\"sst2\", \"mrpc\"]\n"  // 11
                               "pruner = \"kwon\"\n"            // 12
                               "flops_reduction = 0.5\n",       // 13
                               dir_, good));
  const CommandResult result = sweep(config, "--check");
  const std::string& out = result.output;
  EXPECT_EQ(result.exit_code, 2) << out;
  EXPECT_TRUE(contains(out, "2 problem(s); 2 of 2 job(s) cannot run")) << out;
  EXPECT_TRUE(contains(out, "data:\n")) << out;
  EXPECT_TRUE(contains(out, dir_ + "/partial/SST-2/dev.tsv: missing")) << out;
  EXPECT_TRUE(contains(out, fmt::format("asked by {}:4 (data.sst2)", config))) << out;
  EXPECT_TRUE(contains(out, dir_ + "/nodata: not a directory")) << out;
  EXPECT_TRUE(contains(out, fmt::format("asked by {}:5 (data.glue)", config))) << out;
  EXPECT_FALSE(contains(out, "SST-2/train.tsv: missing")) << "the train split is there\n" << out;
}

TEST_F(Preflight, AnOutputFolderThatCannotBeCreatedStopsTheWholeSweep) {
  std::ofstream(dir_ + "/afile") << "not a folder\n";
  const std::string config =
      standin_config(fmt::format("name = \"t\"\noutput = \"{}/afile/r.h5\"", dir_));
  for (const std::string flags : {"--check", "--skip-missing"}) {
    const CommandResult result = sweep(config, flags);
    const std::string& out = result.output;
    EXPECT_EQ(result.exit_code, 2) << flags << "\n" << out;
    EXPECT_TRUE(contains(out, fmt::format("{0}/afile/r.h5: '{0}/afile' is not a folder", dir_)))
        << out;
    EXPECT_TRUE(contains(out, fmt::format("asked by {}:3 (sweep.output)", config))) << out;
  }
}

TEST_F(Preflight, AMissingPretrainingCorpusIsListedUnderCorpora) {
  const std::string config =
      write_config(fmt::format("[sweep]\n"                        // 1
                               "output = \"{0}/r.h5\"\n"          // 2
                               "[data]\n"                         // 3
                               "vocab = \"{1}\"\n"                // 4
                               "[grids.main]\n"                   // 5
                               "kind = \"pretrain\"\n"            // 6
                               "tag = \"mlm\"\n"                  // 7
                               "corpus = \"{0}/nocorpus.txt\"\n"  // 8
                               "steps = 10\n",                    // 9
                               dir_, shared_path("data/vocab/bert-base-uncased-vocab.txt")));
  const CommandResult result = sweep(config, "--check");
  const std::string& out = result.output;
  EXPECT_EQ(result.exit_code, 2) << out;
  EXPECT_TRUE(contains(out, "1 problem(s); 1 of 1 job(s) cannot run")) << out;
  EXPECT_TRUE(contains(out, "corpora:\n  - " + dir_ + "/nocorpus.txt: missing")) << out;
  EXPECT_TRUE(contains(out, fmt::format("asked by {}:8 (corpus)", config))) << out;
}

TEST_F(Preflight, DryRunMarksTheJobsThatCannotRunAndSkipMissingRecordsThem) {
  const std::string config =
      write_config(fmt::format("[sweep]\n"
                               "output = \"{0}/r.h5\"\n"
                               "[data]\n"
                               "glue = \"{1}\"\n"
                               "[models.absent]\n"
                               "checkpoint = \"{0}/absent\"\n"
                               "[models.teacher]\n"
                               "recipe = {{ kind = \"standin\", duration_s = 0.01 }}\n"
                               "[grids.stand]\n"
                               "kind = \"standin\"\n"
                               "model = \"teacher\"\n"
                               "task = \"sst2\"\n"
                               "pruner = \"random\"\n"
                               "flops_reduction = [0.4, 0.5]\n"
                               "duration_s = 0.01\n"
                               "[grids.real]\n"
                               "kind = \"prune\"\n"
                               "model = \"absent\"\n"
                               "task = \"sst2\"\n"
                               "pruner = \"kwon\"\n"
                               "flops_reduction = [0.4, 0.5]\n",
                               dir_, glue_));
  const CommandResult dry = sweep(config, "--dry-run");
  EXPECT_EQ(dry.exit_code, 0) << dry.output;
  std::istringstream lines(dry.output);
  int marked = 0;
  for (std::string line; std::getline(lines, line);) {
    if (contains(line, "  prune ")) {
      EXPECT_TRUE(contains(line, "MISSING: " + dir_ + "/absent: not a directory")) << line;
      ++marked;
    } else if (contains(line, "  standin ")) {
      EXPECT_FALSE(contains(line, "MISSING")) << line;
    }
  }
  EXPECT_EQ(marked, 2) << dry.output;
  EXPECT_TRUE(contains(dry.output, "2 cannot run (inputs missing)")) << dry.output;

  const CommandResult refused = sweep(config, "");
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_TRUE(contains(refused.output, "no job was started")) << refused.output;
  EXPECT_TRUE(contains(refused.output, "--skip-missing")) << refused.output;
  EXPECT_FALSE(fs::exists(dir_ + "/r.h5"));

  const CommandResult partial = sweep(config, "--skip-missing");
  EXPECT_EQ(partial.exit_code, 0) << partial.output;
  EXPECT_TRUE(contains(partial.output, "2 skipped (inputs missing)")) << partial.output;
  int done = 0;
  int skipped = 0;
  for (const SummaryRow& row : read_summary_with_h5py(dir_ + "/r.h5")) {
    if (row.status == "done") ++done;
    if (row.status == "skipped") {
      ++skipped;
      EXPECT_TRUE(contains(row.error, "inputs missing: " + dir_ + "/absent")) << row.error;
    }
  }
  EXPECT_EQ(done, 3) << "the stand-in teacher and its two jobs";
  EXPECT_EQ(skipped, 2);
}

// At the start of a run (not with --check, whose login node has neither): the ranks against
// Slurm's task count and the device against the visible GPUs, listed with the run's problems.
TEST_F(Preflight, RanksAndDevicesAreCheckedAtTheStartOfARunOnly) {
  const std::string config =
      standin_config(fmt::format("output = \"{}/r.h5\"\ndevice = \"cuda\"", dir_));
  const std::string environment = "SLURM_NTASKS=3 CUDA_VISIBLE_DEVICES=";
  const CommandResult check = run_command(
      fmt::format("cd {} && {} {} {} --check", dir_, environment, KPRUNE_SWEEP_BIN, config));
  EXPECT_EQ(check.exit_code, 0) << check.output;
  const CommandResult run =
      run_command(fmt::format("cd {} && {} {} {}", dir_, environment, KPRUNE_SWEEP_BIN, config));
  const std::string& out = run.output;
  EXPECT_EQ(run.exit_code, 2) << out;
  EXPECT_TRUE(contains(out, "SLURM_NTASKS=3 but MPI sees 1 rank(s)")) << out;
  EXPECT_TRUE(contains(out, "device 'cuda' asked, but no GPU is visible here")) << out;
  EXPECT_TRUE(contains(out, fmt::format("asked by {}:3 (sweep.device)", config))) << out;
  EXPECT_TRUE(contains(out, "no job was started")) << out;
  EXPECT_FALSE(fs::exists(dir_ + "/r.h5")) << out;
}

// The shipped configs: the demos need nothing they do not make themselves (their teachers and
// data are written by earlier jobs of the sweep); glue.toml's BERT-base checkpoints are listed,
// every one, in one message.
TEST(PreflightShippedConfigs, DemosPassAndGlueListsEveryMissingCheckpoint) {
  const std::string repo = fs::path(KPRUNE_CONFIGS_DIR).parent_path().string();
  const std::string out = temp_dir("preflight-configs");
  for (const std::string name : {"demo", "demo-efficiency", "demo-qa", "standin"}) {
    const CommandResult result =
        run_command(fmt::format("cd {} && {} configs/{}.toml sweep.output={}/{}.h5 --check", repo,
                                KPRUNE_SWEEP_BIN, name, out, name));
    EXPECT_EQ(result.exit_code, 0) << name << "\n" << result.output;
    EXPECT_TRUE(contains(result.output, "are in order")) << result.output;
  }
  const std::string glue_output = fmt::format("sweep.output={}/glue.h5", out);
  const CommandResult dry = run_command(fmt::format("cd {} && {} configs/glue.toml {} --dry-run",
                                                    repo, KPRUNE_SWEEP_BIN, glue_output));
  std::set<std::string> checkpoints;
  std::istringstream lines(dry.output);
  for (std::string line; std::getline(lines, line);) {
    const size_t at = line.find("checkpoint=");
    if (at != std::string::npos)
      checkpoints.insert(line.substr(at + 11, line.find(' ', at) - at - 11));
  }
  ASSERT_FALSE(checkpoints.empty()) << dry.output;
  const CommandResult check = run_command(
      fmt::format("cd {} && {} configs/glue.toml {} --check", repo, KPRUNE_SWEEP_BIN, glue_output));
  EXPECT_EQ(check.exit_code, 2) << check.output;
  for (const std::string& checkpoint : checkpoints) {
    if (fs::exists(fs::path(repo) / checkpoint)) continue;
    EXPECT_TRUE(contains(check.output, "  - " + checkpoint + ": not a directory"))
        << checkpoint << "\n"
        << check.output;
  }
  EXPECT_TRUE(contains(check.output, "HuggingFace checkpoint folder fine-tuned on its task"))
      << check.output;
}

}  // namespace
}  // namespace kprune::testing
