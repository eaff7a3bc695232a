// The predictions file {question id: answer text} and the v2 no-answer file {question id:
// probability} of `kprune squad-score`, scored against a small dataset (the answer texts are
// normalized, tokenized and compared like the official script does).
// Input: the predictions file, then optionally '\0' and the no-answer file.
#include "framework/tasks/squad_metrics.h"
#include "fuzz/fuzz_support.h"

namespace {

// Answerable and unanswerable questions, with accents, articles and punctuation in the answers.
constexpr const char* kDataset = R"({"version": "v2.0", "data": [{"title": "T", "paragraphs": [
  {"context": "The Café served über-strong coffee, a treat.", "qas": [
    {"id": "q1", "question": "What?", "answers": [{"text": "The Café", "answer_start": 0},
      {"text": "über-strong coffee", "answer_start": 16}]},
    {"id": "q2", "question": "Why?", "answers": [], "is_impossible": true,
     "plausible_answers": [{"text": "a treat", "answer_start": 36}]}]}]}]})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kprune;
  static const SquadDataset dataset = parse_squad(nlohmann::json::parse(kDataset), "dataset");
  const auto parts = fuzz::split_at_nul(fuzz::as_text(data, size));
  fuzz::expect_clean([&] {
    SquadScoreOptions options;
    if (parts.size() > 1) {
      options.na_probs = parse_squad_na_probs(std::string(parts[1]), "na_prob.json");
    }
    score_squad(dataset, parse_squad_predictions(std::string(parts[0]), "predictions.json"),
                options)
        .to_json()
        .dump();
  });
  return 0;
}
