#pragma once
// Inference latency and throughput of a model (teacher or pruned) over a batch-size × sequence-
// length grid: random token ids, no padding, eval mode, no autograd; warm-up calls first, then
// timed repetitions (CUDA synchronised). Used by `kprune latency` and bench_pruned_latency.
#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "framework/model/batch.h"
#include "framework/model/encoder.h"

namespace kprune {

struct LatencyOptions {
  std::vector<int64_t> batch_sizes = {1, 32};
  std::vector<int64_t> seq_lens = {128};
  int warmup = 2;        // untimed calls per grid point
  int repetitions = 10;  // timed calls per grid point
  // Time only the 2L sublayers from the embedded input (what pruning changes); otherwise the
  // whole forward: embeddings, encoder and task head.
  bool encoder_only = false;
  uint64_t seed = 0;  // of the random token ids
};

struct LatencyPoint {
  int64_t batch_size = 0;
  int64_t seq_len = 0;
  std::vector<double> seconds;  // one per repetition
  double mean_ms = 0, median_ms = 0, min_ms = 0, max_ms = 0;
  double sequences_per_second = 0;  // batch_size / median
  double tokens_per_second = 0;     // batch_size · seq_len / median
};

struct LatencyResult {
  std::string device;
  int intra_op_threads = 0;  // torch::get_num_threads() while measuring
  LatencyOptions options;
  std::vector<LatencyPoint> points;  // batch-major over the grid

  nlohmann::json to_json() const;
};

// A batch of random non-special token ids (every token real) shaped [batch_size, seq_len].
Batch random_batch(const EncoderConfig& config, int64_t batch_size, int64_t seq_len, uint64_t seed,
                   torch::Device device);

// Throws kprune::Error for an empty grid, a non-positive size, a sequence longer than the
// model's position table, or fewer than one repetition.
LatencyResult measure_latency(const EncoderModel& model, const LatencyOptions& options);

}  // namespace kprune
