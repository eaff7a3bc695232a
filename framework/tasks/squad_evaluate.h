#pragma once
// Evaluation of a QA encoder on SQuAD features: forward passes, decoding, official scores.
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "framework/model/encoder.h"
#include "framework/tasks/squad_data.h"
#include "framework/tasks/squad_decode.h"
#include "framework/tasks/squad_features.h"
#include "framework/tasks/squad_metrics.h"
#include "framework/tasks/task.h"

namespace kprune {

struct SquadEvalResult {
  SquadScores scores;                        // of the decoded predictions (x100)
  std::vector<SquadPrediction> predictions;  // per question with features, in question order
  double forward_seconds = 0;                // wall time of the forward passes
  double decode_seconds = 0;                 // decoding and scoring
  int64_t tokens = 0;                        // real (unpadded) tokens evaluated
};

// Runs the model (already on `device`, with a question-answering head) in eval mode without
// gradients over batches of `batch_size` features padded to their longest (batched in order of
// length; padding does not change outputs), restores its training flag, decodes every question
// from the logits of all of its windows and scores the answers against `dataset`.
SquadEvalResult evaluate_squad(EncoderModel& model, const SquadDataset& dataset,
                               const std::vector<SquadFeature>& features,
                               const SquadDecodeOptions& decode = {}, int64_t batch_size = 32,
                               torch::Device device = torch::kCPU);

// The decoding of `task` on `dataset`: with the v2 null answer for squad_v2 or when some question
// is unanswerable.
SquadDecodeOptions squad_decode_options(const TaskSpec& task, const SquadDataset& dataset);

// The scores as metrics by name (x100): exact, f1 and, when present, the official script's
// HasAns_*/NoAns_*/best_* scores; counts and thresholds are left out.
std::map<std::string, double> squad_metric_values(const SquadScores& scores);

// The official predictions file {question id: answer text} and the v2 no-answer file
// {question id: null score - best span score}, in question order.
nlohmann::ordered_json squad_predictions_json(const std::vector<SquadPrediction>& predictions);
nlohmann::ordered_json squad_null_odds_json(const std::vector<SquadPrediction>& predictions);

}  // namespace kprune
