#pragma once
// Supervised fine-tuning of an encoder on a task (AdamW, linear warmup and decay, gradient
// clipping, periodic dev evaluation), keeping the best dev checkpoint.
#include <torch/torch.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "framework/model/encoder.h"
#include "framework/model/precision.h"
#include "framework/tasks/features.h"
#include "framework/tasks/task.h"
#include "framework/train/trainer.h"

namespace kprune {

struct FinetuneOptions {
  int64_t batch_size = 32;
  int64_t max_steps = 1000;     // optimizer steps in total
  double learning_rate = 1e-4;  // peak, after warmup
  double warmup_ratio = 0.1;    // fraction of max_steps spent warming up linearly
  double weight_decay = 0.01;   // not applied to biases and LayerNorm weights (HF convention)
  double max_grad_norm = 1.0;   // <= 0 disables clipping
  double adam_epsilon = 1e-8;
  int64_t eval_every = 250;  // steps between dev evaluations (and at the end)
  int64_t eval_batch_size = 128;
  uint64_t seed = 0;
  int64_t pad_id = 0;  // the tokenizer's [PAD] id
  torch::Device device = torch::kCPU;
  Precision precision = Precision::fp32;  // of training; dev evaluations run in fp32
};

struct EvalRecord {
  int64_t step = 0;
  double seconds = 0;  // wall time since training started
  std::map<std::string, double> metrics;
};

struct FinetuneResult {
  std::vector<EvalRecord> evaluations;
  EvalRecord best;  // by the task's main metric
  int64_t steps = 0;
  double train_seconds = 0;  // wall time of the whole run, evaluations included
  double tokens_per_second = 0;
  double final_loss = 0;  // moving average of the training loss at the end
};

// Called with a copy of the model state each time the dev main metric improves.
using BestModelCallback = std::function<void(const EncoderModel&, const EvalRecord&)>;

// What fine-tuning trains on, whatever the head: `size` examples and the padded batch, with
// its targets, of the examples at `indices` (in that order), on the CPU.
struct TrainingSet {
  int64_t size = 0;
  std::function<Batch(const std::vector<int64_t>& indices)> collate;
};

// The dev metrics of the model by name (they include the task's main metric).
using DevEvaluator = std::function<std::map<std::string, double>(EncoderModel&)>;

// Trains `model` in place on `train` with the task head's supervised loss, evaluating with
// `evaluate_dev` (null: never) every `eval_every` steps and after the last. The model ends in
// the state of the LAST step; `on_best` sees every new best.
FinetuneResult finetune_on(EncoderModel& model, const TaskSpec& task, const TrainingSet& train,
                           const DevEvaluator& evaluate_dev, const FinetuneOptions& options,
                           const BestModelCallback& on_best);

// Sentence(-pair) tasks: `train` and `dev` features (dev empty: no evaluation).
FinetuneResult finetune(EncoderModel& model, const TaskSpec& task,
                        const std::vector<Feature>& train, const std::vector<Feature>& dev,
                        const FinetuneOptions& options, const BestModelCallback& on_best);

}  // namespace kprune
