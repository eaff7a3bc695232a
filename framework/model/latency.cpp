#include "framework/model/latency.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <numeric>

#include "framework/util/error.h"
#include "framework/util/timer.h"

namespace kprune {

nlohmann::json LatencyResult::to_json() const {
  nlohmann::json grid = nlohmann::json::array();
  for (const LatencyPoint& p : points) {
    grid.push_back({{"batch_size", p.batch_size},
                    {"seq_len", p.seq_len},
                    {"mean_ms", p.mean_ms},
                    {"median_ms", p.median_ms},
                    {"min_ms", p.min_ms},
                    {"max_ms", p.max_ms},
                    {"sequences_per_second", p.sequences_per_second},
                    {"tokens_per_second", p.tokens_per_second},
                    {"seconds", p.seconds}});
  }
  return {{"device", device},
          {"intra_op_threads", intra_op_threads},
          {"warmup", options.warmup},
          {"repetitions", options.repetitions},
          {"encoder_only", options.encoder_only},
          {"seed", options.seed},
          {"points", grid}};
}

Batch random_batch(const EncoderConfig& config, int64_t batch_size, int64_t seq_len, uint64_t seed,
                   torch::Device device) {
  auto generator = at::detail::createCPUGenerator(seed);
  Batch batch;
  batch.input_ids =
      torch::randint(0, config.vocab_size, {batch_size, seq_len}, generator, torch::kLong);
  batch.token_type_ids = torch::zeros_like(batch.input_ids);
  batch.attention_mask = torch::ones_like(batch.input_ids);
  return batch.to(device);
}

LatencyResult measure_latency(const EncoderModel& model, const LatencyOptions& options) {
  if (options.batch_sizes.empty() || options.seq_lens.empty()) {
    fail("latency: the batch-size and sequence-length grid must not be empty");
  }
  if (options.repetitions < 1 || options.warmup < 0) {
    fail("latency: need at least one repetition and a non-negative warm-up, got {} and {}",
         options.repetitions, options.warmup);
  }
  const EncoderConfig& config = model.config();
  for (int64_t b : options.batch_sizes) {
    if (b < 1) fail("latency: batch sizes must be positive, got {}", b);
  }
  for (int64_t t : options.seq_lens) {
    if (t < 1 || t > config.max_position_embeddings) {
      fail("latency: sequence length {} outside [1, {}] (the model's position table)", t,
           config.max_position_embeddings);
    }
  }
  torch::NoGradGuard no_grad;
  const bool cuda = model.device().is_cuda();
  LatencyResult result;
  result.device = model.device().str();
  result.intra_op_threads = torch::get_num_threads();
  result.options = options;
  for (int64_t batch_size : options.batch_sizes) {
    for (int64_t seq_len : options.seq_lens) {
      const Batch batch = random_batch(config, batch_size, seq_len, options.seed, model.device());
      // Encoder only: embeddings and attention bias are inputs, not timed.
      const torch::Tensor embedded = model.embed(batch);
      const torch::Tensor bias = model.attention_bias(batch);
      auto call = [&] {
        if (options.encoder_only) {
          model.run_sublayers(0, model.num_sublayers(), embedded, bias);
        } else {
          model.forward(batch);
        }
        if (cuda) torch::cuda::synchronize();
      };
      for (int i = 0; i < options.warmup; ++i) call();
      LatencyPoint point;
      point.batch_size = batch_size;
      point.seq_len = seq_len;
      for (int i = 0; i < options.repetitions; ++i) {
        Stopwatch clock;
        call();
        point.seconds.push_back(clock.seconds());
      }
      std::vector<double> sorted = point.seconds;
      std::sort(sorted.begin(), sorted.end());
      const size_t n = sorted.size();
      const double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
      point.mean_ms = 1e3 * std::accumulate(sorted.begin(), sorted.end(), 0.0) / double(n);
      point.median_ms = 1e3 * median;
      point.min_ms = 1e3 * sorted.front();
      point.max_ms = 1e3 * sorted.back();
      point.sequences_per_second = double(batch_size) / median;
      point.tokens_per_second = double(batch_size * seq_len) / median;
      result.points.push_back(std::move(point));
    }
  }
  return result;
}

}  // namespace kprune
