#pragma once
// From start/end logits to answer texts (algorithms.md 8.2; HF postprocess_qa_predictions).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "framework/tasks/squad_data.h"
#include "framework/tasks/squad_features.h"

namespace kprune {

struct SquadDecodeOptions {
  int64_t n_best = 20;             // largest start x largest end logits tried per feature
  int64_t max_answer_length = 30;  // tokens
  bool version_2 = false;          // allow the empty answer (null score at [CLS])
  double null_threshold = 0.0;     // v2: predict "" when null - best non-null > this
};

struct SquadPrediction {
  std::string id;
  std::string text;
  // v2: null score minus the best non-null span's score (the "no-answer odds"); 0 for v1.
  double null_score_diff = 0;
};

// One prediction per question that has features, in question order. `start_logits[f]` and
// `end_logits[f]` belong to features[f]; entries past the feature's length (batch padding) are
// ignored, so the answer does not depend on how the features were batched. With no valid span
// the text is "empty", as in the reference.
std::vector<SquadPrediction> decode_squad(const SquadDataset& dataset,
                                          const std::vector<SquadFeature>& features,
                                          const std::vector<std::vector<double>>& start_logits,
                                          const std::vector<std::vector<double>>& end_logits,
                                          const SquadDecodeOptions& options = {});

// id -> text, the official predictions file's content.
std::map<std::string, std::string> prediction_texts(
    const std::vector<SquadPrediction>& predictions);

}  // namespace kprune
