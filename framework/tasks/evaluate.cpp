#include "framework/tasks/evaluate.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "framework/tasks/metrics.h"
#include "framework/util/error.h"
#include "framework/util/progress.h"
#include "framework/util/timer.h"

namespace kprune {
namespace {

// Evaluations shorter than this print no progress (fine-tuning evaluates often).
constexpr double kQuietSeconds = 5.0;

}  // namespace

void check_head_matches_task(const EncoderConfig& config, const TaskSpec& task,
                             const std::string& origin) {
  if (config.head_kind != task.head_kind || config.num_labels != task.num_labels) {
    fail(
        "{}: the model has a {} head with {} label(s), but task {} needs a {} head with {} "
        "label(s)",
        origin, to_string(config.head_kind), config.num_labels, task.name,
        to_string(task.head_kind), task.num_labels);
  }
}

EvalResult evaluate(EncoderModel& model, const TaskSpec& task, const std::vector<Feature>& features,
                    int64_t batch_size, torch::Device device) {
  check_head_matches_task(model.config(), task, "evaluate");
  EvalModeGuard eval_mode(model);
  return evaluate_forward([&](const Batch& batch) { return model.forward(batch); }, task, features,
                          batch_size, device);
}

EvalResult evaluate_forward(const BatchForward& forward, const TaskSpec& task,
                            const std::vector<Feature>& features, int64_t batch_size,
                            torch::Device device) {
  if (features.empty()) fail("evaluate {}: no examples", task.name);
  if (batch_size <= 0)
    fail("evaluate {}: batch size must be positive (got {})", task.name, batch_size);
  if (task.head_kind != HeadKind::classification && task.head_kind != HeadKind::regression) {
    fail("evaluate {}: {} tasks are not evaluated here", task.name, to_string(task.head_kind));
  }
  std::vector<size_t> order(features.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return features[a].length() < features[b].length(); });

  EvalResult result;
  result.predictions.assign(features.size(), 0.0);
  result.golds.reserve(features.size());
  size_t labelled = 0;
  for (const Feature& feature : features) {
    result.golds.push_back(feature.label);
    labelled += std::isnan(feature.label) ? 0 : 1;
    result.tokens += feature.length();
  }
  if (labelled != 0 && labelled != features.size()) {
    fail("evaluate {}: {} of {} examples are unlabelled; metrics need all or none labelled",
         task.name, features.size() - labelled, features.size());
  }

  torch::NoGradGuard no_grad;
  Stopwatch clock;
  const auto step = static_cast<size_t>(batch_size);
  const auto num_batches = static_cast<int64_t>((features.size() + step - 1) / step);
  Progress progress("evaluate " + task.name, num_batches);
  for (size_t start = 0, done = 0; start < order.size(); start += step) {
    const size_t end = std::min(order.size(), start + step);
    std::vector<const Feature*> members;
    for (size_t i = start; i < end; ++i) members.push_back(&features[order[i]]);
    Batch batch = collate(members, task.head_kind);
    batch.labels = torch::Tensor();  // the model only needs inputs
    const ModelOutput output = forward(batch.to(device));
    // [B, num_labels] -> [B]
    const torch::Tensor predicted = task.head_kind == HeadKind::regression
                                        ? output.logits.select(1, 0)
                                        : output.logits.argmax(1);
    const torch::Tensor values = predicted.to(torch::kCPU, torch::kFloat64).contiguous();
    const auto* data = values.data_ptr<double>();
    for (size_t i = start; i < end; ++i) result.predictions[order[i]] = data[i - start];
    ++done;
    if (clock.seconds() >= kQuietSeconds) progress.update(static_cast<int64_t>(done));
  }
  result.seconds = clock.seconds();
  if (labelled != 0) result.metrics = task_metrics(task, result.predictions, result.golds);
  return result;
}

}  // namespace kprune
