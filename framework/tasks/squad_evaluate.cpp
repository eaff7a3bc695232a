#include "framework/tasks/squad_evaluate.h"

#include <algorithm>
#include <numeric>

#include "framework/util/error.h"
#include "framework/util/timer.h"

namespace kprune {

SquadEvalResult evaluate_squad(EncoderModel& model, const SquadDataset& dataset,
                               const std::vector<SquadFeature>& features,
                               const SquadDecodeOptions& decode, int64_t batch_size,
                               torch::Device device) {
  if (features.empty()) fail("evaluate_squad {}: no features", dataset.path);
  if (batch_size <= 0) fail("evaluate_squad: batch size must be positive (got {})", batch_size);
  if (model.config().head_kind != HeadKind::question_answering) {
    fail("evaluate_squad: the model has a {} head, not a question_answering one",
         to_string(model.config().head_kind));
  }
  std::vector<size_t> order(features.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return features[a].tokens.length() < features[b].tokens.length();
  });

  SquadEvalResult result;
  std::vector<std::vector<double>> starts(features.size()), ends(features.size());
  const bool was_training = model.is_training();
  model.eval();
  {
    torch::NoGradGuard no_grad;
    Stopwatch clock;
    const auto step = static_cast<size_t>(batch_size);
    for (size_t first = 0; first < order.size(); first += step) {
      const size_t last = std::min(order.size(), first + step);
      std::vector<const SquadFeature*> members;
      for (size_t i = first; i < last; ++i) members.push_back(&features[order[i]]);
      const Batch batch = collate_squad(members, false, model.config().pad_token_id).to(device);
      const ModelOutput output = model.forward(batch);
      // [B, T] each, as float64 on the CPU.
      const torch::Tensor start = output.start_logits.to(torch::kCPU, torch::kFloat64).contiguous();
      const torch::Tensor end = output.end_logits.to(torch::kCPU, torch::kFloat64).contiguous();
      for (size_t row = 0; row < members.size(); ++row) {
        const size_t f = order[first + row];
        const auto length = features[f].tokens.length();
        const double* start_row = start[static_cast<int64_t>(row)].data_ptr<double>();
        const double* end_row = end[static_cast<int64_t>(row)].data_ptr<double>();
        starts[f].assign(start_row, start_row + length);
        ends[f].assign(end_row, end_row + length);
        result.tokens += length;
      }
    }
    result.forward_seconds = clock.seconds();
  }
  model.train(was_training);

  Stopwatch clock;
  result.predictions = decode_squad(dataset, features, starts, ends, decode);
  result.scores = score_squad(dataset, prediction_texts(result.predictions));
  result.decode_seconds = clock.seconds();
  return result;
}

SquadDecodeOptions squad_decode_options(const TaskSpec& task, const SquadDataset& dataset) {
  SquadDecodeOptions options;
  options.version_2 = task.name == "squad_v2" || dataset.has_unanswerable();
  return options;
}

std::map<std::string, double> squad_metric_values(const SquadScores& scores) {
  std::map<std::string, double> values;
  const nlohmann::ordered_json json = scores.to_json();
  for (auto it = json.begin(); it != json.end(); ++it) {
    const std::string& name = it.key();
    if (name.find("total") == std::string::npos && name.find("thresh") == std::string::npos) {
      values[name] = it.value().get<double>();
    }
  }
  return values;
}

nlohmann::ordered_json squad_predictions_json(const std::vector<SquadPrediction>& predictions) {
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  for (const SquadPrediction& prediction : predictions) json[prediction.id] = prediction.text;
  return json;
}

nlohmann::ordered_json squad_null_odds_json(const std::vector<SquadPrediction>& predictions) {
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  for (const SquadPrediction& prediction : predictions) {
    json[prediction.id] = prediction.null_score_diff;
  }
  return json;
}

}  // namespace kprune
