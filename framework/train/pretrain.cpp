#include "framework/train/pretrain.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>

#include "framework/model/losses.h"
#include "framework/train/finetune.h"
#include "framework/train/optimizer.h"
#include "framework/util/error.h"
#include "framework/util/progress.h"
#include "framework/util/timer.h"

namespace kprune {
namespace {

// Independent streams per (seed, step) for the corruption and for dropout.
uint64_t step_seed(uint64_t seed, int64_t step, uint64_t stream) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(step) * 0xBF58476D1CE4E5B9ULL +
               stream * 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return x & 0x7FFFFFFFFFFFFFFFULL;  // torch::manual_seed takes any uint64, generators too
}

struct TrainingState {
  int64_t step = 0;
  double loss_average = 0, loss_weight = 0;
};

void save_state(const std::string& path, const EncoderModel& encoder, const MlmHead& head,
                const torch::optim::AdamW& optimizer, const TrainingState& state,
                const std::string& fingerprint) {
  torch::serialize::OutputArchive archive, encoder_archive, head_archive, optimizer_archive;
  encoder.save(encoder_archive);
  head.save(head_archive);
  optimizer.save(optimizer_archive);
  archive.write("encoder", encoder_archive);
  archive.write("head", head_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("step", c10::IValue(state.step));
  archive.write("loss_average", c10::IValue(state.loss_average));
  archive.write("loss_weight", c10::IValue(state.loss_weight));
  archive.write("fingerprint", c10::IValue(fingerprint));
  // A kill during the write leaves the previous state intact.
  const std::string temporary = path + ".tmp";
  archive.save_to(temporary);
  std::filesystem::rename(temporary, path);
}

TrainingState load_state(const std::string& path, EncoderModel& encoder, MlmHead& head,
                         torch::optim::AdamW& optimizer, const std::string& fingerprint,
                         torch::Device device) {
  torch::serialize::InputArchive archive, encoder_archive, head_archive, optimizer_archive;
  archive.load_from(path, device);
  c10::IValue value;
  archive.read("fingerprint", value);
  if (value.toStringRef() != fingerprint) {
    fail(
        "pretrain: the saved state {} belongs to another recipe or corpus (saved: {}; now: {}); "
        "use another output directory or delete the state to start over",
        path, value.toStringRef(), fingerprint);
  }
  archive.read("encoder", encoder_archive);
  archive.read("head", head_archive);
  archive.read("optimizer", optimizer_archive);
  encoder.load(encoder_archive);
  head.load(head_archive);
  optimizer.load(optimizer_archive);
  TrainingState state;
  archive.read("step", value);
  state.step = value.toInt();
  archive.read("loss_average", value);
  state.loss_average = value.toDouble();
  archive.read("loss_weight", value);
  state.loss_weight = value.toDouble();
  return state;
}

}  // namespace

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
  if (options.batch_size <= 0 || options.max_steps <= 0) {
    fail("pretrain: batch size and steps must be positive (got {} and {})", options.batch_size,
         options.max_steps);
  }
  if (rows < options.batch_size) {
    fail(
        "pretrain: the corpus fills {} sequence(s) of {} tokens, fewer than one batch of {}; "
        "add text or lower --batch-size / --seq-len",
        rows, sequences.size(1), options.batch_size);
  }
  encoder.to(options.device);
  head.to(options.device);
  auto named = encoder.named_parameters();
  for (const auto& item : head.named_parameters()) named.insert("mlm." + item.key(), item.value());
  auto optimizer =
      make_adamw(named, {options.learning_rate, options.weight_decay, options.adam_epsilon});

  TrainingState state;
  PretrainResult result;
  if (std::filesystem::exists(state_path)) {
    state = load_state(state_path, encoder, head, *optimizer, fingerprint, options.device);
    fmt::print(stderr, "[pretrain] resuming from step {} ({})\n", state.step, state_path);
  }
  result.resumed_from = state.step;
  const int64_t warmup_steps =
      std::llround(options.warmup_ratio * static_cast<double>(options.max_steps));
  const int64_t steps_per_epoch = rows / options.batch_size;
  const int64_t last_step =
      options.stop_after > 0 ? std::min(options.stop_after, options.max_steps) : options.max_steps;

  Stopwatch clock;
  Progress progress("pretrain", options.max_steps);
  std::vector<int64_t> order;
  int64_t order_epoch = -1;
  int64_t trained_tokens = 0;
  encoder.train();
  head.train();
  while (state.step < last_step) {
    const int64_t step = state.step;
    const int64_t epoch = step / steps_per_epoch;
    if (epoch != order_epoch) {
      order = seeded_permutation(rows, options.seed * 1000003 + static_cast<uint64_t>(epoch));
      order_epoch = epoch;
    }
    const int64_t first = (step % steps_per_epoch) * options.batch_size;
    const torch::Tensor index = torch::tensor(
        std::vector<int64_t>(order.begin() + first, order.begin() + first + options.batch_size));
    const MaskedTokens corrupted =
        mask_tokens(sequences.index_select(0, index), masking, step_seed(options.seed, step, 1));

    torch::manual_seed(step_seed(options.seed, step, 2));
    set_learning_rate(
        *optimizer, options.learning_rate * linear_schedule(step, warmup_steps, options.max_steps));
    optimizer->zero_grad();
    torch::Tensor loss;
    {
      PrecisionScope precision(options.precision, options.device);
      loss = mlm_loss(encoder, head, corrupted.input_ids.to(options.device),
                      corrupted.labels.to(options.device));
    }
    loss.backward();
    if (options.max_grad_norm > 0) {
      torch::nn::utils::clip_grad_norm_(named.values(), options.max_grad_norm);
    }
    optimizer->step();

    const double loss_value = loss.item<double>();
    if (!std::isfinite(loss_value)) {
      fail("pretrain: the MLM loss became {} at step {} (learning rate {} too high?)", loss_value,
           step, options.learning_rate);
    }
    state.loss_average = 0.98 * state.loss_average + 0.02 * loss_value;
    state.loss_weight = 0.98 * state.loss_weight + 0.02;
    state.step += 1;
    trained_tokens += corrupted.input_ids.numel();
    result.final_loss = state.loss_average / state.loss_weight;
    result.tokens_per_second =
        static_cast<double>(trained_tokens) / std::max(clock.seconds(), 1e-9);
    progress.update(state.step, fmt::format("loss {:.4f}  {:.0f} tok/s", result.final_loss,
                                            result.tokens_per_second));
    const bool save =
        state.step == last_step || (options.save_every > 0 && state.step % options.save_every == 0);
    if (save) save_state(state_path, encoder, head, *optimizer, state, fingerprint);
  }
  if (state.loss_weight > 0) result.final_loss = state.loss_average / state.loss_weight;
  result.steps = state.step;
  result.finished = state.step == options.max_steps;
  result.train_seconds = clock.seconds();
  encoder.eval();
  head.eval();
  return result;
}

}  // namespace kprune
