#pragma once
// The SQuAD sample set (algorithms.md 3.1): training FEATURES (windows, not questions) drawn
// uniformly with replacement exactly as make_sample_set() draws them, batched in draw order
// (12 per batch), with start/end positions for the losses that need them (Kwon's Fisher).
#include <cstdint>
#include <vector>

#include "framework/tasks/sample_set.h"
#include "framework/tasks/squad_features.h"

namespace kprune {

// The SQuAD batch size of the sample set (halve it for "large" models).
inline constexpr int64_t kSquadSampleBatchSize = 12;

SampleSet make_squad_sample_set(const std::vector<SquadFeature>& train, int64_t num_examples,
                                uint64_t seed, int64_t batch_size = kSquadSampleBatchSize,
                                int64_t pad_id = 0);

}  // namespace kprune
