// The synthetic SQuAD-format task: deterministic, valid official JSON, questions whose answer is
// in the sentence about the person asked for, a vocabulary that covers it, and training positions
// that point back at the answer text.
#include <gtest/gtest.h>

#include <string>

#include "framework/tasks/sample_set.h"
#include "framework/tasks/squad_data.h"
#include "framework/tasks/squad_features.h"
#include "framework/tasks/squad_sample_set.h"
#include "framework/tasks/squad_synthetic.h"
#include "framework/tasks/squad_task.h"
#include "framework/tasks/task.h"
#include "framework/util/error.h"
#include "tests/test_support.h"

namespace kprune {
namespace {

SquadDataset generate(uint64_t seed, bool version_2, int64_t paragraphs = 40) {
  IndexSampler sampler(seed);
  SquadSyntheticOptions options;
  options.paragraphs = paragraphs;
  options.version_2 = version_2;
  return parse_squad(generate_synthetic_squad(sampler, options, "t"), "synthetic");
}

// The name a question asks about: the word before the last one, or before "?" at the end.
std::string asked_person(const std::string& question) {
  for (const char* verb : {" live ?", " like ?", " own ?", " born ?", " ?"}) {
    const auto end = question.rfind(verb);
    if (end == std::string::npos) continue;
    const auto begin = question.rfind(' ', end - 1) + 1;
    return question.substr(begin, end - begin);
  }
  return "";
}

TEST(SquadSynthetic, SameSeedSameBytes) {
  SquadSyntheticOptions options;
  options.paragraphs = 5;
  IndexSampler a(7), b(7), c(8);
  const auto first = generate_synthetic_squad(a, options, "x").dump();
  EXPECT_EQ(first, generate_synthetic_squad(b, options, "x").dump());
  EXPECT_NE(first, generate_synthetic_squad(c, options, "x").dump());
}

TEST(SquadSynthetic, AnswersAreInTheSentenceAboutTheAskedPerson) {
  const SquadDataset v1 = generate(3, false);
  EXPECT_EQ(v1.questions.size(), 160u);
  EXPECT_FALSE(v1.has_unanswerable());
  const SquadDataset v2 = generate(3, true);
  int64_t impossible = 0;
  for (const SquadDataset* dataset : {&v1, &v2}) {
    for (const SquadQuestion& question : dataset->questions) {
      const std::string& context = dataset->context_of(question);
      const std::string person = asked_person(question.question);
      ASSERT_FALSE(person.empty()) << question.question;
      const SquadAnswer& answer =
          question.is_impossible() ? question.plausible_answers.at(0) : question.answers.at(0);
      // The sentence holding the answer: from after the previous "." to the answer.
      const auto sentence_begin = context.rfind('.', static_cast<size_t>(answer.start));
      const size_t begin = sentence_begin == std::string::npos ? 0 : sentence_begin + 2;
      const std::string head = context.substr(begin, static_cast<size_t>(answer.start) - begin);
      const std::string stated_person = head.substr(0, head.find(' '));
      if (!question.is_impossible()) {
        EXPECT_EQ(stated_person, person) << question.id << ": " << context;
      } else {
        ++impossible;
        // Nobody states this kind of fact about the person asked for.
        const std::string relation = head.substr(head.find(' '));  // " lives in "
        EXPECT_EQ(context.find(person + relation), std::string::npos)
            << question.id << ": " << question.question << " / " << context;
      }
    }
  }
  // 33 % of 160 questions, give or take.
  EXPECT_GT(impossible, 30);
  EXPECT_LT(impossible, 80);
}

TEST(SquadSynthetic, WrittenTaskIsReadableCoveredByTheVocabAndPositionsHitTheAnswers) {
  const std::string dir = testing::temp_dir("squad_synthetic");
  SquadSyntheticOptions options;
  options.version_2 = true;
  write_synthetic_squad(dir, 1, 30, 10, options);
  const TaskSpec& task = find_task("squad_v2");
  EXPECT_EQ(read_examples(task, dir, task.dev_split).size(), 40u);
  const SquadDataset train = read_squad_file(squad_split_path(task, dir, task.train_split));
  ASSERT_EQ(train.questions.size(), 120u);

  const auto tokenizer = WordPieceTokenizer::from_vocab_file(dir + "/vocab.txt");
  const auto features = make_squad_features(tokenizer, train);
  ASSERT_EQ(features.size(), train.questions.size());  // short paragraphs: one window each
  for (const SquadFeature& feature : features) {
    for (const int64_t id : feature.tokens.input_ids) ASSERT_NE(id, tokenizer.unk_id());
    const SquadQuestion& question =
        train.questions[static_cast<size_t>(feature.tokens.example_index)];
    if (question.is_impossible()) {
      EXPECT_EQ(feature.start_position, 0);
      EXPECT_EQ(feature.end_position, 0);
      continue;
    }
    ASSERT_GT(feature.start_position, 0);
    const auto begin = feature.context_offsets[static_cast<size_t>(feature.start_position)].first;
    const auto end = feature.context_offsets[static_cast<size_t>(feature.end_position)].second;
    EXPECT_EQ(substring_code_points(train.context_of(question), begin, end),
              question.answers[0].text);
  }
}

TEST(SquadSampleSet, DrawsFeaturesLikeTheGlueSampleSetInBatchesOf12WithPositions) {
  const std::string dir = testing::temp_dir("squad_sample_set");
  write_synthetic_squad(dir, 2, 20, 2, {});
  const TaskSpec& task = find_task("squad");
  const SquadDataset train = read_squad_file(squad_split_path(task, dir, task.train_split));
  const auto tokenizer = WordPieceTokenizer::from_vocab_file(dir + "/vocab.txt");
  const auto features = make_squad_features(tokenizer, train);
  const SampleSet set = make_squad_sample_set(features, 30, 5);
  std::vector<Feature> tokens;
  for (const auto& feature : features) tokens.push_back(feature.tokens);
  const SampleSet plain = make_sample_set(tokens, HeadKind::question_answering, 30, 5, 12);
  EXPECT_EQ(set.indices, plain.indices);
  EXPECT_EQ(set.num_tokens, plain.num_tokens);
  ASSERT_EQ(set.batches.size(), 3u);  // 12 + 12 + 6
  EXPECT_EQ(set.batches[2].size(), 6);
  for (size_t b = 0; b < set.batches.size(); ++b) {
    EXPECT_TRUE(torch::equal(set.batches[b].input_ids, plain.batches[b].input_ids));
    for (int64_t row = 0; row < set.batches[b].size(); ++row) {
      const SquadFeature& drawn =
          features[static_cast<size_t>(set.indices[b * 12 + static_cast<size_t>(row)])];
      EXPECT_EQ(set.batches[b].start_positions[row].item<int64_t>(), drawn.start_position);
      EXPECT_EQ(set.batches[b].end_positions[row].item<int64_t>(), drawn.end_position);
    }
  }
  EXPECT_THROW(make_squad_sample_set({}, 3, 0), Error);
}

}  // namespace
}  // namespace kprune
