#include "framework/train/finetune.h"

#include <fmt/format.h>

#include <cmath>

#include "framework/model/losses.h"
#include "framework/tasks/evaluate.h"
#include "framework/tasks/index_sampler.h"
#include "framework/train/optimizer.h"
#include "framework/util/error.h"
#include "framework/util/progress.h"
#include "framework/util/timer.h"

namespace kprune {

double linear_schedule(int64_t step, int64_t warmup_steps, int64_t total_steps) {
  if (step < warmup_steps) return static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  const int64_t decay_steps = total_steps - warmup_steps;
  if (decay_steps <= 0) return 1.0;
  return std::max(0.0, static_cast<double>(total_steps - step) / static_cast<double>(decay_steps));
}

std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  IndexSampler sampler(seed);
  for (int64_t i = n - 1; i > 0; --i) {
    const uint64_t j = sampler.below(static_cast<uint64_t>(i) + 1);
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
}

FinetuneResult finetune_on(EncoderModel& model, const TaskSpec& task, const TrainingSet& train,
                           const DevEvaluator& evaluate_dev, const FinetuneOptions& options,
                           const BestModelCallback& on_best) {
  if (train.size <= 0) fail("finetune: the training set of task {} is empty", task.name);
  if (options.batch_size <= 0 || options.max_steps <= 0) {
    fail("finetune: batch_size and max_steps must be positive (got {} and {})", options.batch_size,
         options.max_steps);
  }
  torch::manual_seed(options.seed);
  model.to(options.device);
  auto optimizer = make_adamw(
      model.named_parameters(),
      AdamWSettings{options.learning_rate, options.weight_decay, options.adam_epsilon});
  const auto warmup_steps = static_cast<int64_t>(
      std::llround(options.warmup_ratio * static_cast<double>(options.max_steps)));

  FinetuneResult result;
  result.best.metrics[task.main_metric] = -INFINITY;
  Stopwatch clock;
  Progress progress("finetune " + task.name, options.max_steps);
  std::vector<int64_t> order;
  size_t cursor = 0;
  uint64_t epoch = 0;
  int64_t trained_tokens = 0;
  double train_only_seconds = 0;
  double loss_average = 0;  // exponential moving average, bias-corrected
  double loss_weight = 0;

  auto evaluate_now = [&](int64_t step) {
    const std::map<std::string, double> metrics = evaluate_dev(model);
    const auto main = metrics.find(task.main_metric);
    if (main == metrics.end()) {
      fail("finetune {}: the dev evaluation has no {} (the main metric)", task.name,
           task.main_metric);
    }
    EvalRecord record{step, clock.seconds(), metrics};
    result.evaluations.push_back(record);
    const double value = main->second;
    std::string shown;
    for (const auto& [name, metric] : metrics) shown += fmt::format(" {} {:.2f}", name, metric);
    fmt::print(stderr, "[finetune {}] step {} dev{}\n", task.name, step, shown);
    if (value > result.best.metrics.at(task.main_metric)) {
      result.best = record;
      if (on_best) on_best(model, record);
    }
  };

  model.train();
  for (int64_t step = 0; step < options.max_steps; ++step) {
    Stopwatch step_clock;
    if (cursor + static_cast<size_t>(options.batch_size) > order.size()) {
      order = seeded_permutation(train.size, options.seed * 1000003 + epoch++);
      cursor = 0;
    }
    const size_t end = std::min(order.size(), cursor + static_cast<size_t>(options.batch_size));
    const std::vector<int64_t> members(order.begin() + static_cast<std::ptrdiff_t>(cursor),
                                       order.begin() + static_cast<std::ptrdiff_t>(end));
    cursor = end;
    const Batch batch = train.collate(members).to(options.device);

    set_learning_rate(
        *optimizer, options.learning_rate * linear_schedule(step, warmup_steps, options.max_steps));
    optimizer->zero_grad();
    torch::Tensor loss;
    {
      PrecisionScope precision(options.precision, options.device);
      loss = supervised_loss(model.forward(batch), batch, task.head_kind);
    }
    loss.backward();
    if (options.max_grad_norm > 0) {
      torch::nn::utils::clip_grad_norm_(model.parameters(), options.max_grad_norm);
    }
    optimizer->step();

    const double loss_value = loss.item<double>();
    if (!std::isfinite(loss_value)) {
      fail("finetune {}: the loss became {} at step {} (learning rate {} too high?)", task.name,
           loss_value, step, options.learning_rate);
    }
    loss_average = 0.98 * loss_average + 0.02 * loss_value;
    loss_weight = 0.98 * loss_weight + 0.02;
    trained_tokens += batch.attention_mask.sum().item<int64_t>();
    train_only_seconds += step_clock.seconds();
    result.final_loss = loss_average / loss_weight;
    result.tokens_per_second =
        static_cast<double>(trained_tokens) / std::max(train_only_seconds, 1e-9);
    progress.update(step + 1, fmt::format("loss {:.4f}  {:.0f} tok/s", result.final_loss,
                                          result.tokens_per_second));
    const bool last = step + 1 == options.max_steps;
    if (evaluate_dev &&
        (last || (options.eval_every > 0 && (step + 1) % options.eval_every == 0))) {
      evaluate_now(step + 1);
    }
  }
  result.steps = options.max_steps;
  result.train_seconds = clock.seconds();
  model.eval();
  return result;
}

FinetuneResult finetune(EncoderModel& model, const TaskSpec& task,
                        const std::vector<Feature>& train, const std::vector<Feature>& dev,
                        const FinetuneOptions& options, const BestModelCallback& on_best) {
  const TrainingSet training{static_cast<int64_t>(train.size()),
                             [&](const std::vector<int64_t>& indices) {
                               std::vector<const Feature*> members;
                               for (const int64_t i : indices) {
                                 members.push_back(&train[static_cast<size_t>(i)]);
                               }
                               return collate(members, task.head_kind, options.pad_id);
                             }};
  DevEvaluator evaluate_dev;
  if (!dev.empty()) {
    evaluate_dev = [&](EncoderModel& current) {
      return evaluate(current, task, dev, options.eval_batch_size, options.device).metrics;
    };
  }
  return finetune_on(model, task, training, evaluate_dev, options, on_best);
}

}  // namespace kprune
