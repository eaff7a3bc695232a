#pragma once
// The synthetic demo task: binary sentiment about a film, written as GLUE SST-2-format TSV
// files plus a small WordPiece vocab, so everything downstream runs through the real readers.
//
// A sentence has a target clause about the film ("the movie was not very good") and often a
// distractor clause about something else ("but the actors were fine"), before or after it.
// The label is the polarity of the target clause's adjective, flipped by a negation ("not",
// "never") in that clause only; intensifiers ("very") change nothing. Distractor clauses carry
// their own adjectives and negations, so the label depends on which clause a word is in: a
// bag-of-words model cannot reach 100 %, a model that attends across the clause can.
#include <cstdint>
#include <string>
#include <vector>

#include "framework/tasks/index_sampler.h"
#include "framework/tasks/task.h"

namespace kprune {

// Task `synthetic`: the SST-2 reader and label set with dir_name "synthetic".
TaskSpec synthetic_task_spec();

// Writes out_dir/vocab.txt and out_dir/synthetic/{train,dev}.tsv. The bytes depend only on
// (seed, train_size, dev_size); see IndexSampler for the random draws.
void write_synthetic_task(const std::string& out_dir, uint64_t seed, int64_t train_size,
                          int64_t dev_size);

// One generated sentence and its label (exposed for tests).
struct SyntheticSentence {
  std::string text;
  int label = 0;  // 1 = positive
};
SyntheticSentence generate_synthetic_sentence(IndexSampler& sampler);

// Every word the generator can emit, plus "," and "." (the vocab after the special tokens).
std::vector<std::string> synthetic_words();

}  // namespace kprune
