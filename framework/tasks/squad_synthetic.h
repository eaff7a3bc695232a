#pragma once
// A synthetic SQuAD-format QA task for the demo and for training small QA teachers here.
//
// A paragraph states a few facts about several people ("Alice lives in Oslo . Bob owns a parrot
// . Alice was born in 1987 ."), in random order. A question asks for one fact of one person
// ("where does Alice live ?"); its answer is the span naming the value in THAT person's sentence,
// while other people's sentences carry values of the same kind, so a model must match the name
// across the paragraph, not just the kind of answer. With v2, some questions ask for a fact the
// paragraph does not state about anyone in it (unanswerable; the plausible answer is the value of
// the same kind stated for someone else).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "framework/tasks/index_sampler.h"

namespace kprune {

struct SquadSyntheticOptions {
  int64_t paragraphs = 100;
  int64_t questions_per_paragraph = 4;
  bool version_2 = false;
  // v2: chance (in percent) that a question is unanswerable.
  int64_t unanswerable_percent = 33;
};

// The official JSON layout ({"version", "data": [...]}); its bytes depend only on the sampler's
// state and the options. Question ids are "<id_prefix>-<paragraph>-<question>".
nlohmann::json generate_synthetic_squad(IndexSampler& sampler, const SquadSyntheticOptions& options,
                                        const std::string& id_prefix);

// Every word the generator emits, lower-cased, plus "." and "?" (the vocab after the specials).
std::vector<std::string> synthetic_squad_words();

// Writes out_dir/vocab.txt and out_dir/<v1.1|v2.0>/{train,dev}-<version>.json, the layout of
// the tasks `squad` / `squad_v2` (squad_task.h); `paragraphs` is ignored in favour of the sizes.
void write_synthetic_squad(const std::string& out_dir, uint64_t seed, int64_t train_paragraphs,
                           int64_t dev_paragraphs, SquadSyntheticOptions options);

}  // namespace kprune
