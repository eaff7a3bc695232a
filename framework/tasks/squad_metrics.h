#pragma once
// The official SQuAD metrics (the v2.0 evaluation script, which also scores v1.1 data;
// algorithms.md 8.2). All scores are x100 except the per-question ones.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "framework/tasks/squad_data.h"

namespace kprune {

// Python's normalize_answer: lower case (str.lower), drop the characters of
// string.punctuation, replace the words a/an/the (re \b boundaries, Unicode \w) by a space,
// join the whitespace-separated (str.split) tokens with single spaces. "The  Cat." -> "cat".
std::string normalize_squad_answer(const std::string& text);
// normalize_squad_answer(text) split on whitespace.
std::vector<std::string> squad_answer_tokens(const std::string& text);

// 1 if the normalised texts are equal, else 0.
double squad_exact(const std::string& gold, const std::string& prediction);
// Token-overlap F1 of the normalised texts; when either has no tokens, 1 iff both have none.
double squad_f1(const std::string& gold, const std::string& prediction);

// The golds a question is scored against: its answers whose normalised text is not empty, or
// {""} when there are none (an unanswerable question).
std::vector<std::string> scoring_golds(const SquadQuestion& question);

// Per-question no-answer probabilities in file order (the order breaks ties in the threshold
// search, as Python's stable sort does).
using NoAnswerProbabilities = std::vector<std::pair<std::string, double>>;

struct SquadScoreOptions {
  // Questions whose no-answer probability exceeds this are scored as predicting "".
  double na_prob_threshold = 1.0;
  std::optional<NoAnswerProbabilities> na_probs;  // absent: 0 for every question
};

struct SquadScores {
  int64_t total = 0;
  double exact = 0, f1 = 0;
  int64_t has_ans_total = 0, no_ans_total = 0;
  double has_ans_exact = 0, has_ans_f1 = 0, no_ans_exact = 0, no_ans_f1 = 0;
  // With na_probs: the best score over thresholds and the threshold reaching it.
  std::optional<double> best_exact, best_exact_thresh, best_f1, best_f1_thresh;
  // Questions without a prediction; they count as wrong (0 EM, 0 F1) in every total.
  std::vector<std::string> missing;

  // The official script's output: exact, f1, total, HasAns_* (when some question has an answer),
  // NoAns_* (when some has none), best_* (with na_probs), in that order.
  nlohmann::ordered_json to_json() const;
};

// The official predictions file {question id: answer text} and the v2 no-answer file {question id:
// no-answer probability} (kept in file order), from their text; errors name `origin` and the id.
std::map<std::string, std::string> parse_squad_predictions(const std::string& text,
                                                           const std::string& origin);
NoAnswerProbabilities parse_squad_na_probs(const std::string& text, const std::string& origin);

// Scores `predictions` (question id -> answer text). Predictions for ids that are not in the
// dataset are ignored, as the official script does; na_probs must cover every question.
SquadScores score_squad(const SquadDataset& dataset,
                        const std::map<std::string, std::string>& predictions,
                        const SquadScoreOptions& options = {});

}  // namespace kprune
