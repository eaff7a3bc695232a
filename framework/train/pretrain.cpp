#include "framework/train/pretrain.h"

#include <fmt/format.h>

#include <cmath>

#include "framework/model/losses.h"
#include "framework/train/trainer.h"
#include "framework/util/error.h"
#include "framework/util/timer.h"

namespace kprune {

torch::Tensor mlm_loss(const EncoderModel& encoder, const MlmHead& head,
                       const torch::Tensor& input_ids, const torch::Tensor& labels) {
  Batch batch;
  batch.input_ids = input_ids;
  batch.token_type_ids = torch::zeros_like(input_ids);
  batch.attention_mask = torch::ones_like(input_ids);  // packed rows have no padding
  const torch::Tensor hidden =
      encoder.run_sublayers(0, encoder.num_sublayers(), encoder.embed(batch),
                            encoder.attention_bias(batch));  // [B, T, d]
  const torch::Tensor selected = labels >= 0;                // [B, T]
  // Only the selected positions go through the vocabulary-sized decoder.
  const torch::Tensor logits =
      head.forward(hidden.index({selected}), encoder.parameter("word_embeddings"));  // [N, V]
  return torch::cross_entropy_loss(at_least_fp32(logits), labels.index({selected}));
}

PretrainResult pretrain(EncoderModel& encoder, MlmHead& head, const torch::Tensor& sequences,
                        const MlmMasking& masking, const PretrainOptions& options,
                        const std::string& state_path, const std::string& fingerprint) {
  const int64_t rows = sequences.size(0);
  if (rows < options.batch_size) {
    fail(
        "pretrain: the corpus fills {} sequence(s) of {} tokens, fewer than one batch of {}; "
        "add text or lower --batch-size / --seq-len",
        rows, sequences.size(1), options.batch_size);
  }
  ParameterGroup group;
  group.parameters = encoder.named_parameters();
  for (const auto& item : head.named_parameters()) {
    group.parameters.insert("mlm." + item.key(), item.value());
  }
  group.adamw = {options.learning_rate, options.weight_decay, options.adam_epsilon};
  group.warmup_ratio = options.warmup_ratio;

  TrainerOptions loop;
  loop.name = "pretrain";
  loop.examples = rows;
  loop.batch_size = options.batch_size;
  loop.max_steps = options.max_steps;
  loop.max_grad_norm = options.max_grad_norm;
  loop.seed = options.seed;
  loop.save_every = options.save_every;
  loop.stop_after = options.stop_after;
  loop.state_path = state_path;
  loop.fingerprint = fingerprint;
  loop.device = options.device;

  TrainingCallbacks callbacks;
  callbacks.step = [&](const std::vector<int64_t>& members, int64_t step) {
    const MaskedTokens corrupted = mask_tokens(sequences.index_select(0, torch::tensor(members)),
                                               masking, step_seed(options.seed, step, 1));
    torch::Tensor loss;
    {
      PrecisionScope precision(options.precision, options.device);
      loss = mlm_loss(encoder, head, corrupted.input_ids.to(options.device),
                      corrupted.labels.to(options.device));
    }
    loss.backward();
    return StepOutcome{loss.item<double>(), corrupted.input_ids.numel()};
  };
  Stopwatch clock;
  const TrainerResult run =
      run_training({{"encoder", &encoder}, {"head", &head}}, {group}, loop, callbacks);

  PretrainResult result;
  result.resumed_from = run.resumed_from;
  result.steps = run.steps;
  result.finished = run.finished;
  result.train_seconds = clock.seconds();
  result.tokens_per_second = run.tokens_per_second;
  result.final_loss = run.final_loss;
  return result;
}

}  // namespace kprune
