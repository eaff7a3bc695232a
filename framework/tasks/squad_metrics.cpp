#include "framework/tasks/squad_metrics.h"

#include <utf8proc.h>

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "framework/text/utf8.h"
#include "framework/util/error.h"

namespace kprune {
namespace {

// Python's str.isspace().
bool is_python_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

// Python's string.punctuation (ASCII only: other punctuation survives normalisation).
bool is_ascii_punctuation(char32_t c) {
  static constexpr std::string_view punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
  return c < 0x80 && punctuation.find(static_cast<char>(c)) != std::string_view::npos;
}

// Python's re \w on str: letters, numbers and the underscore.
bool is_word_char(char32_t c) {
  if (c == U'_') return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

// str.lower(): the simple mapping, plus the one full mapping that lengthens (U+0130 -> "i̇").
void append_lower(char32_t c, std::u32string& out) {
  if (c == 0x130) {
    out += U"i\u0307";
    return;
  }
  out += static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
}

bool is_article(std::u32string_view word) {
  return word == U"a" || word == U"an" || word == U"the";
}

double percent(double sum, int64_t count) {
  return count == 0 ? 0.0 : 100.0 * sum / static_cast<double>(count);
}

}  // namespace

std::vector<std::string> squad_answer_tokens(const std::string& text) {
  std::u32string lowered;
  for (char32_t c : decode_utf8(text)) {
    if (!is_ascii_punctuation(c)) append_lower(c, lowered);
  }
  // Articles become a space; every maximal run of word characters is a candidate.
  std::u32string spaced;
  for (size_t i = 0; i < lowered.size();) {
    if (!is_word_char(lowered[i])) {
      spaced += lowered[i++];
      continue;
    }
    size_t end = i;
    while (end < lowered.size() && is_word_char(lowered[end])) ++end;
    const std::u32string_view word(lowered.data() + i, end - i);
    if (is_article(word)) {
      spaced += U' ';
    } else {
      spaced += word;
    }
    i = end;
  }
  std::vector<std::string> tokens;
  std::string current;
  bool in_token = false;
  for (char32_t c : spaced) {
    if (is_python_space(c)) {
      if (in_token) tokens.push_back(std::move(current));
      current.clear();
      in_token = false;
    } else {
      append_utf8(c, current);
      in_token = true;
    }
  }
  if (in_token) tokens.push_back(std::move(current));
  return tokens;
}

std::string normalize_squad_answer(const std::string& text) {
  std::string joined;
  for (const std::string& token : squad_answer_tokens(text)) {
    if (!joined.empty()) joined += ' ';
    joined += token;
  }
  return joined;
}

double squad_exact(const std::string& gold, const std::string& prediction) {
  return normalize_squad_answer(gold) == normalize_squad_answer(prediction) ? 1.0 : 0.0;
}

double squad_f1(const std::string& gold, const std::string& prediction) {
  const auto gold_tokens = squad_answer_tokens(gold);
  const auto predicted_tokens = squad_answer_tokens(prediction);
  if (gold_tokens.empty() || predicted_tokens.empty()) {
    return gold_tokens == predicted_tokens ? 1.0 : 0.0;
  }
  // Multiset intersection (Python's Counter &).
  std::unordered_map<std::string, int64_t> gold_counts;
  for (const auto& token : gold_tokens) ++gold_counts[token];
  int64_t common = 0;
  for (const auto& token : predicted_tokens) {
    auto it = gold_counts.find(token);
    if (it != gold_counts.end() && it->second > 0) {
      --it->second;
      ++common;
    }
  }
  if (common == 0) return 0.0;
  const double precision =
      static_cast<double>(common) / static_cast<double>(predicted_tokens.size());
  const double recall = static_cast<double>(common) / static_cast<double>(gold_tokens.size());
  return 2 * precision * recall / (precision + recall);
}

std::vector<std::string> scoring_golds(const SquadQuestion& question) {
  std::vector<std::string> golds;
  for (const auto& answer : question.answers) {
    if (!normalize_squad_answer(answer.text).empty()) golds.push_back(answer.text);
  }
  if (golds.empty()) golds.push_back("");
  return golds;
}

nlohmann::ordered_json SquadScores::to_json() const {
  nlohmann::ordered_json out;
  out["exact"] = exact;
  out["f1"] = f1;
  out["total"] = total;
  if (has_ans_total > 0) {
    out["HasAns_exact"] = has_ans_exact;
    out["HasAns_f1"] = has_ans_f1;
    out["HasAns_total"] = has_ans_total;
  }
  if (no_ans_total > 0) {
    out["NoAns_exact"] = no_ans_exact;
    out["NoAns_f1"] = no_ans_f1;
    out["NoAns_total"] = no_ans_total;
  }
  if (best_exact) {
    out["best_exact"] = *best_exact;
    out["best_exact_thresh"] = *best_exact_thresh;
    out["best_f1"] = *best_f1;
    out["best_f1_thresh"] = *best_f1_thresh;
  }
  return out;
}

std::map<std::string, std::string> parse_squad_predictions(const std::string& text,
                                                           const std::string& origin) {
  const auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    fail("{}: expected a JSON object {{question id: answer text}}", origin);
  }
  std::map<std::string, std::string> predictions;
  for (const auto& [id, answer] : json.items()) {
    if (!answer.is_string()) {
      fail("{}: question {}: the prediction must be a string, found {}", origin, id,
           answer.type_name());
    }
    predictions[id] = answer.get<std::string>();
  }
  return predictions;
}

NoAnswerProbabilities parse_squad_na_probs(const std::string& text, const std::string& origin) {
  const auto json = nlohmann::ordered_json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    fail("{}: expected a JSON object {{question id: no-answer probability}}", origin);
  }
  NoAnswerProbabilities probabilities;
  for (const auto& [id, value] : json.items()) {
    if (!value.is_number()) {
      fail("{}: question {}: the probability must be a number, found {}", origin, id,
           value.type_name());
    }
    probabilities.emplace_back(id, value.get<double>());
  }
  return probabilities;
}

SquadScores score_squad(const SquadDataset& dataset,
                        const std::map<std::string, std::string>& predictions,
                        const SquadScoreOptions& options) {
  std::unordered_map<std::string, double> na_prob_of;
  if (options.na_probs) {
    for (const auto& [id, probability] : *options.na_probs) na_prob_of[id] = probability;
  }
  struct Raw {
    double exact = 0, f1 = 0;
    bool has_answer = false, predicted = false, predicted_empty = true;
  };
  std::unordered_map<std::string, Raw> raw;
  SquadScores scores;
  double exact_sum = 0, f1_sum = 0, has_exact = 0, has_f1 = 0, no_exact = 0, no_f1 = 0;
  for (const SquadQuestion& question : dataset.questions) {
    Raw& r = raw[question.id];
    r.has_answer = !question.is_impossible();
    double na_prob = 0;
    if (options.na_probs) {
      const auto it = na_prob_of.find(question.id);
      if (it == na_prob_of.end())
        fail("no-answer probabilities: no entry for question {}", question.id);
      na_prob = it->second;
    }
    const auto prediction = predictions.find(question.id);
    double exact = 0, f1 = 0;
    if (prediction == predictions.end()) {
      scores.missing.push_back(question.id);
    } else {
      r.predicted = true;
      r.predicted_empty = prediction->second.empty();
      for (const std::string& gold : scoring_golds(question)) {
        r.exact = std::max(r.exact, squad_exact(gold, prediction->second));
        r.f1 = std::max(r.f1, squad_f1(gold, prediction->second));
      }
      const bool predict_no_answer = na_prob > options.na_prob_threshold;
      exact = predict_no_answer ? (r.has_answer ? 0.0 : 1.0) : r.exact;
      f1 = predict_no_answer ? (r.has_answer ? 0.0 : 1.0) : r.f1;
    }
    exact_sum += exact;
    f1_sum += f1;
    if (r.has_answer) {
      ++scores.has_ans_total;
      has_exact += exact;
      has_f1 += f1;
    } else {
      ++scores.no_ans_total;
      no_exact += exact;
      no_f1 += f1;
    }
  }
  scores.total = static_cast<int64_t>(dataset.questions.size());
  scores.exact = percent(exact_sum, scores.total);
  scores.f1 = percent(f1_sum, scores.total);
  scores.has_ans_exact = percent(has_exact, scores.has_ans_total);
  scores.has_ans_f1 = percent(has_f1, scores.has_ans_total);
  scores.no_ans_exact = percent(no_exact, scores.no_ans_total);
  scores.no_ans_f1 = percent(no_f1, scores.no_ans_total);

  if (options.na_probs) {
    // find_best_thresh: raise the threshold past one question at a time, in order of its
    // no-answer probability, starting from "every question predicted unanswerable".
    std::vector<std::pair<std::string, double>> order = *options.na_probs;
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& x, const auto& y) { return x.second < y.second; });
    auto best = [&](double Raw::*score, std::optional<double>& best_score,
                    std::optional<double>& best_thresh) {
      double current = static_cast<double>(scores.no_ans_total);
      double best_value = current, threshold = 0.0;
      for (const auto& [id, probability] : order) {
        const auto it = raw.find(id);
        if (it == raw.end() || !it->second.predicted) continue;
        const Raw& r = it->second;
        current += r.has_answer ? r.*score : (r.predicted_empty ? 0.0 : -1.0);
        if (current > best_value) {
          best_value = current;
          threshold = probability;
        }
      }
      best_score = percent(best_value, scores.total);
      best_thresh = threshold;
    };
    best(&Raw::exact, scores.best_exact, scores.best_exact_thresh);
    best(&Raw::f1, scores.best_f1, scores.best_f1_thresh);
  }
  return scores;
}

}  // namespace kprune
