// The synthetic demo task: deterministic bytes, read back through the SST-2 reader, labels
// that follow the negation scope of the clause about the film, a vocab covering every word.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "framework/tasks/synthetic.h"
#include "framework/tasks/task.h"
#include "framework/text/wordpiece_tokenizer.h"
#include "framework/util/files.h"
#include "tests/test_support.h"

namespace kprune {
namespace {

std::vector<std::string> words_of(const std::string& text) {
  std::istringstream stream(text);
  std::vector<std::string> words;
  for (std::string word; stream >> word;) words.push_back(word);
  return words;
}

// An independent labeller: the clause (delimited by "," "but" "and" "although") that names the
// film is positive iff its adjective is positive, flipped by "not" or "never".
int expected_label(const std::string& text) {
  const std::set<std::string> targets = {"movie", "film", "story", "plot", "script", "ending"};
  const std::set<std::string> positive = {"good",     "great",  "funny",     "moving", "brilliant",
                                          "charming", "clever", "wonderful", "fine",   "beautiful"};
  const std::set<std::string> delimiters = {",", "but", "and", "although", "."};
  std::vector<std::string> clause;
  int label = -1;
  for (const auto& word : words_of(text)) {
    if (delimiters.count(word) == 0) {
      clause.push_back(word);
      continue;
    }
    bool about_film = false, negated = false;
    for (const auto& w : clause) {
      about_film |= targets.count(w) != 0;
      negated |= w == "not" || w == "never";
    }
    if (about_film) {
      EXPECT_EQ(label, -1) << "two clauses about the film: " << text;
      label = (positive.count(clause.back()) != 0) != negated ? 1 : 0;
    }
    clause.clear();
  }
  EXPECT_NE(label, -1) << "no clause about the film: " << text;
  return label;
}

TEST(Synthetic, SameSeedSameBytesOtherSeedOtherBytes) {
  const std::string a = testing::temp_dir("synthetic");
  const std::string b = testing::temp_dir("synthetic");
  const std::string c = testing::temp_dir("synthetic");
  write_synthetic_task(a, 3, 200, 50);
  write_synthetic_task(b, 3, 200, 50);
  write_synthetic_task(c, 4, 200, 50);
  for (const std::string file : {"/vocab.txt", "/synthetic/train.tsv", "/synthetic/dev.tsv"}) {
    EXPECT_EQ(read_file(a + file), read_file(b + file)) << file;
  }
  EXPECT_NE(read_file(a + "/synthetic/train.tsv"), read_file(c + "/synthetic/train.tsv"));
  EXPECT_NE(read_file(a + "/synthetic/dev.tsv"), read_file(c + "/synthetic/dev.tsv"));
}

TEST(Synthetic, ReadsBackWithLabelsFromTheFilmClause) {
  const std::string dir = testing::temp_dir("synthetic");
  write_synthetic_task(dir, 11, 600, 100);
  const TaskSpec& task = find_task("synthetic");
  EXPECT_EQ(task.dir_name, "synthetic");
  EXPECT_EQ(task.label_names, find_task("sst2").label_names);
  const auto train = read_examples(task, dir, "train");
  const auto dev = read_examples(task, dir, "dev");
  ASSERT_EQ(train.size(), 600u);
  ASSERT_EQ(dev.size(), 100u);

  int64_t positives = 0, with_distractor = 0, negated = 0;
  for (const auto& example : train) {
    EXPECT_EQ(example.label, expected_label(example.text_a)) << example.text_a;
    positives += example.label == 1 ? 1 : 0;
    const std::string& text = example.text_a;
    with_distractor += text.find(" but ") != std::string::npos ||
                               text.find(" and ") != std::string::npos ||
                               text.find("although ") != std::string::npos
                           ? 1
                           : 0;
    negated += example.text_a.find(" not ") != std::string::npos ? 1 : 0;
  }
  // Balanced classes, and the phenomena that make attention matter are common.
  EXPECT_GT(positives, 600 * 0.4);
  EXPECT_LT(positives, 600 * 0.6);
  EXPECT_GT(with_distractor, 600 / 2);
  EXPECT_GT(negated, 600 / 5);
}

TEST(Synthetic, VocabCoversEveryWordWithoutUnknowns) {
  const std::string dir = testing::temp_dir("synthetic");
  write_synthetic_task(dir, 5, 300, 10);
  const auto vocab = words_of(read_file(dir + "/vocab.txt"));
  ASSERT_GE(vocab.size(), 5u);
  EXPECT_EQ(std::vector<std::string>(vocab.begin(), vocab.begin() + 5),
            (std::vector<std::string>{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}));
  const auto tokenizer = WordPieceTokenizer::from_vocab_file(dir + "/vocab.txt");
  EXPECT_EQ(tokenizer.pad_id(), 0);
  for (const auto& example : read_examples(find_task("synthetic"), dir, "train")) {
    const auto pieces = tokenizer.tokenize(example.text_a);
    EXPECT_EQ(pieces.size(), words_of(example.text_a).size()) << example.text_a;
    for (const auto& piece : pieces) EXPECT_NE(piece.id, tokenizer.unk_id()) << example.text_a;
  }
}

}  // namespace
}  // namespace kprune
