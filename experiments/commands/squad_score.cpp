// kprune squad-score: the official SQuAD evaluation (v2.0 script, which also scores v1.1 data)
// of a predictions file {question id: answer text}; prints the scores as one JSON object.
#include <iostream>
#include <memory>
#include <string>

#include "experiments/commands/commands.h"
#include "framework/tasks/squad_data.h"
#include "framework/tasks/squad_metrics.h"
#include "framework/util/files.h"

namespace kprune::cli {
namespace {

struct SquadScoreArgs {
  std::string data;
  std::string predictions;
  std::string na_prob;
  double na_prob_threshold = 1.0;
};

void run_squad_score(const SquadScoreArgs& args) {
  const SquadDataset dataset = read_squad_file(args.data);
  SquadScoreOptions options;
  options.na_prob_threshold = args.na_prob_threshold;
  if (!args.na_prob.empty()) {
    options.na_probs = parse_squad_na_probs(read_file(args.na_prob), args.na_prob);
  }
  const SquadScores scores = score_squad(
      dataset, parse_squad_predictions(read_file(args.predictions), args.predictions), options);
  for (const auto& id : scores.missing) std::cerr << "Missing prediction for " << id << "\n";
  std::cout << scores.to_json().dump() << std::endl;
}

}  // namespace

void add_squad_score_command(CLI::App& app) {
  auto args = std::make_shared<SquadScoreArgs>();
  CLI::App* cmd = app.add_subcommand(
      "squad-score",
      "Score SQuAD predictions like the official v2.0 script; prints the scores as one JSON "
      "object");
  cmd->add_option("--data", args->data, "The SQuAD JSON file (v1.1 or v2.0 dev set)")->required();
  cmd->add_option("--predictions", args->predictions,
                  "JSON object {question id: answer text}; \"\" predicts no answer")
      ->required();
  cmd->add_option("--na-prob", args->na_prob,
                  "JSON object {question id: no-answer probability}: adds best_exact/best_f1 "
                  "and their thresholds");
  cmd->add_option("--na-prob-thresh", args->na_prob_threshold,
                  "Predict no answer when the no-answer probability is above this")
      ->capture_default_str();
  cmd->callback([args] { run_squad_score(*args); });
}

}  // namespace kprune::cli
