#include "framework/train/finetune.h"

#include <fmt/format.h>

#include <cmath>

#include "framework/model/losses.h"
#include "framework/tasks/evaluate.h"
#include "framework/train/trainer.h"
#include "framework/util/error.h"
#include "framework/util/timer.h"

namespace kprune {

FinetuneResult finetune_on(EncoderModel& model, const TaskSpec& task, const TrainingSet& train,
                           const DevEvaluator& evaluate_dev, const FinetuneOptions& options,
                           const BestModelCallback& on_best) {
  if (train.size <= 0) fail("finetune: the training set of task {} is empty", task.name);
  ParameterGroup group;
  group.parameters = model.named_parameters();
  group.adamw = {options.learning_rate, options.weight_decay, options.adam_epsilon};
  group.warmup_ratio = options.warmup_ratio;

  TrainerOptions loop;
  loop.name = "finetune " + task.name;
  loop.examples = train.size;
  loop.batch_size = options.batch_size;
  loop.max_steps = options.max_steps;
  loop.max_grad_norm = options.max_grad_norm;
  loop.seed = options.seed;
  loop.seeding = StepSeeding::once;
  loop.checkpoint_every = evaluate_dev ? options.eval_every : 0;
  loop.device = options.device;

  FinetuneResult result;
  result.best.metrics[task.main_metric] = -INFINITY;
  Stopwatch clock;
  TrainingCallbacks callbacks;
  callbacks.step = [&](const std::vector<int64_t>& members, int64_t) {
    const Batch batch = train.collate(members).to(options.device);
    torch::Tensor loss;
    {
      PrecisionScope precision(options.precision, options.device);
      loss = supervised_loss(model.forward(batch), batch, task.head_kind);
    }
    loss.backward();
    return StepOutcome{loss.item<double>(), batch.attention_mask.sum().item<int64_t>()};
  };
  if (evaluate_dev) {
    callbacks.checkpoint = [&](int64_t step, const TrainingTimes&) {
      const std::map<std::string, double> metrics = evaluate_dev(model);
      const auto main = metrics.find(task.main_metric);
      if (main == metrics.end()) {
        fail("finetune {}: the dev evaluation has no {} (the main metric)", task.name,
             task.main_metric);
      }
      EvalRecord record{step, clock.seconds(), metrics};
      result.evaluations.push_back(record);
      std::string shown;
      for (const auto& [name, metric] : metrics) shown += fmt::format(" {} {:.2f}", name, metric);
      fmt::print(stderr, "[finetune {}] step {} dev{}\n", task.name, step, shown);
      if (main->second > result.best.metrics.at(task.main_metric)) {
        result.best = record;
        if (on_best) on_best(model, record);
      }
    };
  }
  const TrainerResult run = run_training({{"model", &model}}, {group}, loop, callbacks);
  result.steps = run.steps;
  result.train_seconds = clock.seconds();
  result.tokens_per_second = run.tokens_per_second;
  result.final_loss = run.final_loss;
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
