// The kprune program on question answering, end to end on the synthetic SQuAD v2 task: a tiny
// QA teacher is fine-tuned, `eval` writes the official predictions and no-answer files that
// `squad-score` scores exactly as eval reported, and `prune` builds the SQuAD sample set itself
// (no --sample-batches) and evaluates teacher and pruned model with the SQuAD metrics.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "framework/tasks/squad_data.h"
#include "framework/util/files.h"
#include "tests/test_support.h"
#include "tests/test_sweep_support.h"

namespace kprune {
namespace {

const std::string kKprune = KPRUNE_BIN;

// The last line of a command's output that parses as a JSON object.
nlohmann::json last_json_line(const std::string& output) {
  std::istringstream lines(output);
  nlohmann::json found;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] != '{') continue;
    const auto json = nlohmann::json::parse(line, nullptr, false);
    if (!json.is_discarded()) found = json;
  }
  return found;
}

nlohmann::json run_ok(const std::string& args) {
  const testing::CommandResult run =
      testing::run_command(kKprune + " " + args + " --device cpu --threads 1");
  EXPECT_EQ(run.exit_code, 0) << args << "\n" << run.output;
  return last_json_line(run.output);
}

class SquadCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = testing::temp_dir("squad_cli");
    const auto made = testing::run_command(kKprune + " make-synthetic --task squad_v2 --out " +
                                           dir_ + " --train 80 --dev 15 --seed 3");
    ASSERT_EQ(made.exit_code, 0) << made.output;
    run_ok("finetune --task squad_v2 --data-dir " + dir_ + " --vocab " + dir_ +
           "/vocab.txt --out " + dir_ +
           "/teacher --layers 1 --hidden 32 --heads 2 --ffn 64 --max-position 128 "
           "--max-seq-len 128 --doc-stride 32 --steps 40 --batch-size 16 --lr 3e-3 "
           "--eval-every 20");
  }
  static std::string dir_;
};
std::string SquadCli::dir_;

TEST_F(SquadCli, FinetuneKeepsTheBestDevCheckpointWithItsSquadScores) {
  const nlohmann::json training = read_json_file(dir_ + "/teacher/training.json");
  ASSERT_EQ(training.at("evaluations").size(), 2u);
  const double best = training.at("best").at("metrics").at("f1").get<double>();
  for (const auto& evaluation : training.at("evaluations")) {
    EXPECT_TRUE(evaluation.at("metrics").contains("HasAns_f1"));
    EXPECT_LE(evaluation.at("metrics").at("f1").get<double>(), best);
  }
}

TEST_F(SquadCli, EvalPredictionsFileScoresAsEvalReported) {
  const std::string predictions = dir_ + "/pred.json";
  const std::string na_probs = dir_ + "/na.json";
  const nlohmann::json eval =
      run_ok("eval --checkpoint " + dir_ + "/teacher --task squad_v2 --data-dir " + dir_ +
             " --max-seq-len 128 --doc-stride 32 --predictions-out " + predictions +
             " --na-prob-out " + na_probs);
  const SquadDataset dev = read_squad_file(dir_ + "/v2.0/dev-v2.0.json");
  EXPECT_EQ(eval.at("examples").get<size_t>(), dev.questions.size());
  EXPECT_GT(eval.at("examples_per_s").get<double>(), 0);
  const nlohmann::json written = read_json_file(predictions);
  ASSERT_EQ(written.size(), dev.questions.size());
  for (const SquadQuestion& question : dev.questions) {
    EXPECT_TRUE(written.at(question.id).is_string()) << question.id;
  }
  ASSERT_EQ(read_json_file(na_probs).size(), dev.questions.size());

  const std::string data = " --data " + dir_ + "/v2.0/dev-v2.0.json --predictions " + predictions;
  const auto scored = testing::run_command(kKprune + " squad-score" + data);
  ASSERT_EQ(scored.exit_code, 0) << scored.output;
  EXPECT_EQ(last_json_line(scored.output), eval.at("metrics"));
  // The no-answer odds are > 0 exactly where "" was predicted, so the default threshold (1.0)
  // leaves the scores as they are and adds the best-threshold ones.
  const nlohmann::json with_odds = last_json_line(
      testing::run_command(kKprune + " squad-score" + data + " --na-prob " + na_probs).output);
  for (const char* name : {"exact", "f1", "HasAns_f1", "NoAns_f1"}) {
    EXPECT_EQ(with_odds.at(name), eval.at("metrics").at(name)) << name;
  }
  EXPECT_GE(with_odds.at("best_f1").get<double>(), eval.at("metrics").at("f1").get<double>());
}

TEST_F(SquadCli, PruneBuildsTheSquadSampleSetAndScoresTeacherAndPrunedModel) {
  const std::string out = dir_ + "/pruned";
  run_ok("prune --checkpoint " + dir_ + "/teacher --task squad_v2 --data-dir " + dir_ +
         " --pruner kprune --flops-reduction 0.5 --out " + out);
  const nlohmann::json report = read_json_file(out + "/report.json");
  // min(floor(100000 / ℓ), |train|) with ℓ = 170 for SQuAD: all 320 training windows (80
  // paragraphs of 4 one-window questions) rather than 588.
  EXPECT_EQ(report.at("run").at("sample_indices").size(), 320u);
  for (const char* eval : {"teacher_eval", "pruned_eval"}) {
    EXPECT_TRUE(report.at(eval).at("metrics").contains("f1")) << eval;
    EXPECT_TRUE(report.at(eval).at("metrics").contains("NoAns_f1")) << eval;
    EXPECT_GT(report.at(eval).at("seconds").get<double>(), 0) << eval;
  }
  const nlohmann::json teacher =
      run_ok("eval --checkpoint " + dir_ + "/teacher --task squad_v2 --data-dir " + dir_);
  EXPECT_NEAR(report.at("teacher_eval").at("metrics").at("f1").get<double>(),
              teacher.at("metrics").at("f1").get<double>(), 1e-9);
}

// Without --data-dir, prune and eval read a QA task from ../shared/data/squad (run from a folder
// where it does not exist, so the error names the file they looked for).
TEST_F(SquadCli, PruneAndEvalDefaultToTheSharedSquadFolder) {
  const std::string cwd = dir_ + "/no-data/cwd";
  std::filesystem::create_directories(cwd);
  const std::vector<std::string> commands = {
      "prune --pruner kprune --flops-reduction 0.5 --out " + dir_ + "/unused", "eval"};
  for (const std::string& command : commands) {
    const testing::CommandResult run =
        testing::run_command("cd " + cwd + " && " + kKprune + " " + command + " --checkpoint " +
                             dir_ + "/teacher --task squad_v2 --device cpu --threads 1");
    EXPECT_NE(run.exit_code, 0) << command;
    EXPECT_NE(run.output.find("../shared/data/squad/v2.0/dev-v2.0.json"), std::string::npos)
        << command << "\n"
        << run.output;
  }
}

}  // namespace
}  // namespace kprune
