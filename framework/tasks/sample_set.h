#pragma once
// The sample set that pruners measure the model on (algorithms.md section 3): examples drawn
// uniformly WITH replacement from the training features, batched in draw order. The batches
// are the same, in the same order, every time they are used (teacher outputs are matched to
// batches by position).
#include <cstdint>
#include <vector>

#include "framework/model/batch.h"
#include "framework/model/config.h"
#include "framework/tasks/features.h"

namespace kprune {

struct SampleSet {
  std::vector<int64_t> indices;  // into the training features, in draw order (may repeat)
  std::vector<Batch> batches;    // consecutive runs of `indices`, each padded to its longest
  int64_t num_tokens = 0;        // real (unpadded) tokens over all drawn examples
};

// N = min(floor(num_tokens / seq_len), train_size); seq_len is the task's ℓ (model/flops.h).
int64_t sample_set_size(double seq_len, int64_t num_tokens, int64_t train_size);

// Draws `num_examples` indices with IndexSampler(seed).below(|train|) (see index_sampler.h for
// the exact, portable RNG) and cuts them into batches of `batch_size` (the last may be smaller).
SampleSet make_sample_set(const std::vector<Feature>& train, HeadKind head_kind,
                          int64_t num_examples, uint64_t seed, int64_t batch_size = 32,
                          int64_t pad_id = 0);

}  // namespace kprune
