#include "framework/tasks/synthetic.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "framework/tasks/glue.h"
#include "framework/util/error.h"
#include "framework/util/files.h"

namespace kprune {
namespace {

using Words = std::vector<std::string>;

const Words kTargets = {"movie", "film", "story", "plot", "script", "ending"};
// Distractor subjects; the plural ones take "were"/"are".
const Words kDistractorsSingular = {"music", "popcorn", "cinema", "weather", "trailer", "sound"};
const Words kDistractorsPlural = {"actors", "seats", "costumes", "effects", "tickets", "critics"};
const Words kPositive = {"good",     "great",  "funny",     "moving", "brilliant",
                         "charming", "clever", "wonderful", "fine",   "beautiful"};
const Words kNegative = {"bad",  "boring", "dull",  "awful", "terrible",
                         "weak", "silly",  "bland", "ugly",  "tedious"};
const Words kNegations = {"not", "never"};
const Words kIntensifiers = {"very", "really", "extremely", "quite", "so", "truly"};
const Words kOpeners = {"i think", "honestly ,", "overall", "to be fair ,"};
const std::vector<std::string> kSpecialTokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

const std::string& pick(IndexSampler& sampler, const Words& words) {
  return words[sampler.below(words.size())];
}

bool coin(IndexSampler& sampler, uint64_t numerator, uint64_t denominator) {
  return sampler.below(denominator) < numerator;
}

// "the <subject> <verb> [not|never] [very] <adjective>"; returns its polarity (1 positive).
int clause(IndexSampler& sampler, const std::string& subject, bool plural, std::string& out) {
  const bool past = coin(sampler, 1, 2);
  const char* verb = plural ? (past ? "were" : "are") : (past ? "was" : "is");
  out += fmt::format("the {} {}", subject, verb);
  const bool negated = coin(sampler, 1, 2);
  if (negated) out += " " + pick(sampler, kNegations);
  if (coin(sampler, 1, 2)) out += " " + pick(sampler, kIntensifiers);
  const bool positive = coin(sampler, 1, 2);
  out += " " + pick(sampler, positive ? kPositive : kNegative);
  return positive != negated ? 1 : 0;
}

void distractor(IndexSampler& sampler, std::string& out) {
  const bool plural = coin(sampler, 1, 2);
  const std::string& subject = pick(sampler, plural ? kDistractorsPlural : kDistractorsSingular);
  clause(sampler, subject, plural, out);  // its polarity is irrelevant to the label
}

std::string tsv(IndexSampler& sampler, int64_t rows) {
  std::string text = "sentence\tlabel\n";
  for (int64_t i = 0; i < rows; ++i) {
    const SyntheticSentence sentence = generate_synthetic_sentence(sampler);
    text += fmt::format("{}\t{}\n", sentence.text, sentence.label);
  }
  return text;
}

}  // namespace

TaskSpec synthetic_task_spec() {
  TaskSpec spec = glue_sst2_task_spec();
  spec.name = "synthetic";
  spec.dir_name = "synthetic";
  spec.data_family = "synthetic";
  spec.splits = {"train", "dev"};
  return spec;
}

SyntheticSentence generate_synthetic_sentence(IndexSampler& sampler) {
  SyntheticSentence sentence;
  std::string& text = sentence.text;
  if (coin(sampler, 1, 4)) text += pick(sampler, kOpeners) + " ";
  const std::string& target = pick(sampler, kTargets);
  // 0: target only; 1: "target , but distractor"; 2: "target and distractor";
  // 3: "although distractor , target"; 4: "distractor , but target".
  switch (sampler.below(5)) {
    case 0:
      sentence.label = clause(sampler, target, false, text);
      break;
    case 1:
      sentence.label = clause(sampler, target, false, text);
      text += " , but ";
      distractor(sampler, text);
      break;
    case 2:
      sentence.label = clause(sampler, target, false, text);
      text += " and ";
      distractor(sampler, text);
      break;
    case 3:
      text += "although ";
      distractor(sampler, text);
      text += " , ";
      sentence.label = clause(sampler, target, false, text);
      break;
    default:
      distractor(sampler, text);
      text += " , but ";
      sentence.label = clause(sampler, target, false, text);
      break;
  }
  text += " .";
  return sentence;
}

std::vector<std::string> synthetic_words() {
  std::set<std::string> words = {",",  ".",   "the", "was", "were",
                                 "is", "are", "but", "and", "although"};
  for (const Words* list : {&kTargets, &kDistractorsSingular, &kDistractorsPlural, &kPositive,
                            &kNegative, &kNegations, &kIntensifiers, &kOpeners}) {
    for (const auto& phrase : *list) {
      size_t start = 0;
      while (start <= phrase.size()) {
        size_t end = phrase.find(' ', start);
        if (end == std::string::npos) end = phrase.size();
        words.insert(phrase.substr(start, end - start));
        start = end + 1;
      }
    }
  }
  return {words.begin(), words.end()};
}

void write_synthetic_task(const std::string& out_dir, uint64_t seed, int64_t train_size,
                          int64_t dev_size) {
  if (train_size <= 0 || dev_size <= 0) {
    fail("write_synthetic_task: train and dev sizes must be positive (got {} and {})", train_size,
         dev_size);
  }
  const std::string task_dir = out_dir + "/synthetic";
  std::error_code error;
  std::filesystem::create_directories(task_dir, error);
  if (error) fail("{}: cannot create the directory: {}", task_dir, error.message());

  std::string vocab;
  for (const auto& token : kSpecialTokens) vocab += token + "\n";
  for (const auto& word : synthetic_words()) vocab += word + "\n";
  write_file_atomic(out_dir + "/vocab.txt", vocab);

  // Separate streams, so the dev set does not change when only train_size does.
  IndexSampler train_sampler(seed * 2);
  IndexSampler dev_sampler(seed * 2 + 1);
  write_file_atomic(task_dir + "/train.tsv", tsv(train_sampler, train_size));
  write_file_atomic(task_dir + "/dev.tsv", tsv(dev_sampler, dev_size));
}

}  // namespace kprune
