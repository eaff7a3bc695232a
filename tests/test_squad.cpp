// SQuAD reader and official metrics: the shared v2.0 dev subset, hand-computed EM/F1 and
// normalisation cases (algorithms.md 8.2, invariant 18), validation errors.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "framework/tasks/squad_data.h"
#include "framework/tasks/squad_metrics.h"
#include "framework/util/error.h"
#include "tests/test_support.h"

namespace kprune {
namespace {

std::string shared_dev_path() {
  return testing::shared_path("data/squad/v2.0/dev-v2.0-first5articles.json");
}

// One paragraph with the given qas.
nlohmann::json one_paragraph(const std::string& context, nlohmann::json qas) {
  return {{"version", "v2.0"},
          {"data",
           {{{"title", "T"}, {"paragraphs", {{{"context", context}, {"qas", std::move(qas)}}}}}}}};
}

void expect_error_containing(const nlohmann::json& json, const std::string& part) {
  try {
    parse_squad(json, "test.json");
    ADD_FAILURE() << "no error; expected one containing " << part;
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(part), std::string::npos) << error.what();
  }
}

TEST(SquadReader, ReadsTheSharedV2DevSubset) {
  const SquadDataset dataset = read_squad_file(shared_dev_path());
  EXPECT_EQ(dataset.version, "v2.0");
  EXPECT_EQ(dataset.paragraphs.size(), 173u);  // MANIFEST.md
  ASSERT_EQ(dataset.questions.size(), 1407u);
  int64_t impossible = 0;
  for (const auto& question : dataset.questions) {
    if (question.is_impossible()) {
      ++impossible;
      EXPECT_FALSE(question.plausible_answers.empty()) << question.id;
    }
  }
  EXPECT_EQ(impossible, 702);
  EXPECT_TRUE(dataset.has_unanswerable());
  const SquadQuestion& first = dataset.questions.front();
  EXPECT_EQ(first.id, "56ddde6b9a695914005b9628");
  EXPECT_EQ(first.question, "In what country is Normandy located?");
  ASSERT_EQ(first.answers.size(), 4u);
  EXPECT_EQ(first.answers[0].text, "France");
  EXPECT_EQ(first.answers[0].start, 159);
  EXPECT_EQ(dataset.paragraphs[static_cast<size_t>(first.paragraph)].title, "Normans");
  EXPECT_EQ(substring_code_points(dataset.context_of(first), 159, 165), "France");
}

TEST(SquadReader, AnswerStartCountsCodePointsNotBytes) {
  // "é" is two bytes: "au" starts at code point 5 but at byte 6.
  const auto json =
      one_paragraph("Café au lait", {{{"id", "q1"},
                                      {"question", "What?"},
                                      {"answers", {{{"text", "au"}, {"answer_start", 5}}}}}});
  const SquadDataset dataset = parse_squad(json, "test.json");
  ASSERT_EQ(dataset.questions.size(), 1u);
  EXPECT_FALSE(dataset.has_unanswerable());
  EXPECT_EQ(dataset.questions[0].answers[0].start, 5);
  expect_error_containing(
      one_paragraph("Café au lait", {{{"id", "q1"},
                                      {"question", "What?"},
                                      {"answers", {{{"text", "au"}, {"answer_start", 6}}}}}}),
      "question q1");
}

TEST(SquadReader, ValidationErrorsNameTheQuestion) {
  const nlohmann::json answer = {{"text", "lait"}, {"answer_start", 8}};
  // The answer text is not at answer_start.
  expect_error_containing(
      one_paragraph("Café au lait", {{{"id", "q7"},
                                      {"question", "?"},
                                      {"answers", {{{"text", "lait"}, {"answer_start", 7}}}}}}),
      "question q7: answers[0]: answer \"lait\" is not the context at answer_start 7 (found \" "
      "lai\")");
  // Beyond the context.
  expect_error_containing(
      one_paragraph("Café", {{{"id", "q8"},
                              {"question", "?"},
                              {"answers", {{{"text", "lait"}, {"answer_start", 2}}}}}}),
      "question q8");
  // A missing field, a wrong type.
  expect_error_containing(one_paragraph("Café au lait", {{{"id", "q9"}, {"answers", {answer}}}}),
                          "question q9: missing field \"question\"");
  expect_error_containing(
      one_paragraph("Café au lait", {{{"id", "q10"},
                                      {"question", "?"},
                                      {"answers", {{{"text", "lait"}, {"answer_start", "8"}}}}}}),
      "question q10: answers[0]: \"answer_start\" must be an integer, found string");
  expect_error_containing(
      one_paragraph(
          "Café au lait",
          {{{"id", "q11"}, {"question", "?"}, {"answers", {answer}}, {"is_impossible", "no"}}}),
      "question q11: \"is_impossible\" must be a boolean");
  // is_impossible must agree with the answers.
  expect_error_containing(
      one_paragraph(
          "Café au lait",
          {{{"id", "q12"}, {"question", "?"}, {"answers", {answer}}, {"is_impossible", true}}}),
      "question q12: is_impossible is true but the question has 1 answers");
  expect_error_containing(
      one_paragraph("Café au lait",
                    {{{"id", "q13"}, {"question", "?"}, {"answers", nlohmann::json::array()}}}),
      "question q13: is_impossible is false");
  // Plausible answers are validated too.
  expect_error_containing(
      one_paragraph("Café au lait",
                    {{{"id", "q14"},
                      {"question", "?"},
                      {"answers", nlohmann::json::array()},
                      {"is_impossible", true},
                      {"plausible_answers", {{{"text", "lait"}, {"answer_start", 0}}}}}}),
      "question q14: plausible_answers[0]");
  // A question without an id is named by its place; duplicate ids are refused.
  expect_error_containing(one_paragraph("Café", {{{"question", "?"}, {"answers", {answer}}}}),
                          "data[0].paragraphs[0].qas[0]: missing field \"id\"");
  const nlohmann::json valid = {{"id", "dup"}, {"question", "?"}, {"answers", {answer}}};
  expect_error_containing(one_paragraph("Café au lait", {valid, valid}), "question dup");
  expect_error_containing(nlohmann::json{{"version", "v2.0"}}, "missing field \"data\"");
}

TEST(SquadMetrics, NormalisationFollowsTheOfficialScript) {
  EXPECT_EQ(normalize_squad_answer("The  Cat."), "cat");
  // Punctuation goes before articles are matched: "the-end" is one word "theend".
  EXPECT_EQ(normalize_squad_answer("An apple, a pear and the-end"), "apple pear and theend");
  EXPECT_EQ(normalize_squad_answer("Theater\tA\n"), "theater");
  EXPECT_EQ(normalize_squad_answer("A"), "");
  // Only ASCII punctuation is removed; other punctuation is a word boundary (re \b).
  EXPECT_EQ(normalize_squad_answer("the’s"), "’s");
  EXPECT_EQ(normalize_squad_answer("Ça VA\u00a0the naïve"), "ça va naïve");
  EXPECT_EQ(squad_answer_tokens("  The U.S. an  army "), (std::vector<std::string>{"us", "army"}));
}

TEST(SquadMetrics, ExactMatchAndF1OnHandCases) {
  EXPECT_EQ(squad_exact("The Cat", "cat!"), 1.0);
  EXPECT_EQ(squad_exact("cat", "cats"), 0.0);
  // gold tokens {cat, sat, on, mat}, prediction {cat, on, mat}: P = 1, R = 3/4.
  EXPECT_DOUBLE_EQ(squad_f1("the cat sat on the mat", "cat on mat"), 2 * 0.75 / 1.75);
  // Counter intersection: y appears twice in the gold, three times in the prediction.
  // P = 2/4, R = 2/3, F1 = 4/7.
  EXPECT_DOUBLE_EQ(squad_f1("x y y", "y y y z"), 4.0 / 7.0);
  EXPECT_EQ(squad_f1("x", "z"), 0.0);
  // Empty (after normalisation) on either side: 1 iff both are empty.
  EXPECT_EQ(squad_f1("", ""), 1.0);
  EXPECT_EQ(squad_f1("", "the"), 1.0);
  EXPECT_EQ(squad_exact("", "the"), 1.0);
  EXPECT_EQ(squad_f1("", "x"), 0.0);
  EXPECT_EQ(squad_f1("x", ""), 0.0);
}

SquadDataset small_dataset() {
  // q1, q2 answerable, q3 not. "Paris" appears at 0 and "cat" at 10.
  const std::string context = "Paris big cat";
  return parse_squad(
      one_paragraph(context, {{{"id", "q1"},
                               {"question", "?"},
                               {"answers", {{{"text", "Paris"}, {"answer_start", 0}}}}},
                              {{"id", "q2"},
                               {"question", "?"},
                               {"answers", {{{"text", "cat"}, {"answer_start", 10}}}}},
                              {{"id", "q3"},
                               {"question", "?"},
                               {"answers", nlohmann::json::array()},
                               {"is_impossible", true}}}),
      "small.json");
}

TEST(SquadMetrics, ScoresWithHasAnsAndNoAnsBreakdowns) {
  const SquadDataset dataset = small_dataset();
  const std::map<std::string, std::string> predictions = {
      {"q1", "paris"}, {"q2", "big cat"}, {"q3", ""}, {"unknown", "ignored"}};
  const SquadScores scores = score_squad(dataset, predictions);
  // q1: EM 1, F1 1; q2: EM 0, F1 2*(1/2)*1/(3/2) = 2/3; q3: EM 1, F1 1.
  EXPECT_EQ(scores.total, 3);
  EXPECT_DOUBLE_EQ(scores.exact, 200.0 / 3);
  EXPECT_DOUBLE_EQ(scores.f1, 100.0 * (2 + 2.0 / 3) / 3);
  EXPECT_EQ(scores.has_ans_total, 2);
  EXPECT_DOUBLE_EQ(scores.has_ans_exact, 50.0);
  EXPECT_DOUBLE_EQ(scores.has_ans_f1, 100.0 * (1 + 2.0 / 3) / 2);
  EXPECT_EQ(scores.no_ans_total, 1);
  EXPECT_DOUBLE_EQ(scores.no_ans_exact, 100.0);
  EXPECT_TRUE(scores.missing.empty());
  EXPECT_FALSE(scores.best_f1.has_value());
  const auto json = scores.to_json();
  std::vector<std::string> keys;
  for (const auto& item : json.items()) keys.push_back(item.key());
  EXPECT_EQ(keys,
            (std::vector<std::string>{"exact", "f1", "total", "HasAns_exact", "HasAns_f1",
                                      "HasAns_total", "NoAns_exact", "NoAns_f1", "NoAns_total"}));
}

TEST(SquadMetrics, MissingPredictionsCountAsWrong) {
  const SquadScores scores = score_squad(small_dataset(), {{"q1", "Paris"}});
  EXPECT_EQ(scores.missing, (std::vector<std::string>{"q2", "q3"}));
  EXPECT_DOUBLE_EQ(scores.exact, 100.0 / 3);
  EXPECT_DOUBLE_EQ(scores.no_ans_exact, 0.0);
}

TEST(SquadMetrics, NoAnswerProbabilitiesThresholdAndBestThreshold) {
  const SquadDataset dataset = small_dataset();
  const std::map<std::string, std::string> predictions = {
      {"q1", "Paris"}, {"q2", "big cat"}, {"q3", "x"}};
  SquadScoreOptions options;
  options.na_probs = NoAnswerProbabilities{{"q1", 0.1}, {"q2", 0.9}, {"q3", 0.8}};
  options.na_prob_threshold = 0.85;
  const SquadScores scores = score_squad(dataset, predictions, options);
  // q2 (0.9 > 0.85) is scored as predicting "": wrong. q3 predicts "x": wrong.
  EXPECT_DOUBLE_EQ(scores.exact, 100.0 / 3);
  EXPECT_DOUBLE_EQ(scores.f1, 100.0 / 3);
  // Sorted by probability: q1 (+1), q3 (-1, a non-empty answer to an unanswerable question),
  // q2 (+EM 0 / +F1 2/3), starting from 1 (every question predicted unanswerable):
  // exact 1 -> 2 -> 1 -> 1, F1 1 -> 2 -> 1 -> 5/3; both peak at q1's threshold 0.1.
  EXPECT_DOUBLE_EQ(*scores.best_exact, 200.0 / 3);
  EXPECT_DOUBLE_EQ(*scores.best_exact_thresh, 0.1);
  EXPECT_DOUBLE_EQ(*scores.best_f1, 200.0 / 3);
  EXPECT_DOUBLE_EQ(*scores.best_f1_thresh, 0.1);
  // Predicting q3 correctly lifts the best F1 to q2's threshold: 1 -> 2 -> 2 -> 8/3.
  auto right = predictions;
  right["q3"] = "";
  const SquadScores better = score_squad(dataset, right, options);
  EXPECT_DOUBLE_EQ(*better.best_f1, 100.0 * (8.0 / 3) / 3);
  EXPECT_DOUBLE_EQ(*better.best_f1_thresh, 0.9);
  options.na_probs->pop_back();
  EXPECT_THROW(score_squad(dataset, predictions, options), Error);
}

TEST(SquadMetrics, GoldAnswersOfTheSharedFileScorePerfectly) {
  const SquadDataset dataset = read_squad_file(shared_dev_path());
  std::map<std::string, std::string> golds, plausible;
  for (const auto& question : dataset.questions) {
    golds[question.id] = question.is_impossible() ? "" : question.answers.back().text;
    plausible[question.id] =
        question.is_impossible() ? question.plausible_answers.front().text : golds[question.id];
  }
  const SquadScores scores = score_squad(dataset, golds);
  EXPECT_EQ(scores.has_ans_total, 705);
  EXPECT_EQ(scores.no_ans_total, 702);
  EXPECT_DOUBLE_EQ(scores.has_ans_exact, 100.0);
  EXPECT_DOUBLE_EQ(scores.has_ans_f1, 100.0);
  EXPECT_DOUBLE_EQ(scores.no_ans_exact, 100.0);
  EXPECT_DOUBLE_EQ(scores.no_ans_f1, 100.0);
  EXPECT_DOUBLE_EQ(scores.f1, 100.0);
  // Answering the unanswerable questions with their plausible answers gets all of them wrong.
  const SquadScores fooled = score_squad(dataset, plausible);
  EXPECT_DOUBLE_EQ(fooled.no_ans_exact, 0.0);
  EXPECT_DOUBLE_EQ(fooled.has_ans_f1, 100.0);
  EXPECT_DOUBLE_EQ(fooled.exact, 100.0 * 705 / 1407);
}

}  // namespace
}  // namespace kprune
