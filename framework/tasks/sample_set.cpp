#include "framework/tasks/sample_set.h"

#include <algorithm>
#include <cmath>

#include "framework/tasks/index_sampler.h"
#include "framework/util/error.h"

namespace kprune {

int64_t sample_set_size(double seq_len, int64_t num_tokens, int64_t train_size) {
  if (!(seq_len > 0) || num_tokens <= 0) {
    fail("sample_set_size: seq_len and num_tokens must be positive (got {} and {})", seq_len,
         num_tokens);
  }
  const auto by_tokens =
      static_cast<int64_t>(std::floor(static_cast<double>(num_tokens) / seq_len));
  return std::min(by_tokens, train_size);
}

SampleSet make_sample_set(const std::vector<Feature>& train, HeadKind head_kind,
                          int64_t num_examples, uint64_t seed, int64_t batch_size, int64_t pad_id) {
  if (train.empty()) fail("make_sample_set: the training set is empty");
  if (num_examples <= 0 || batch_size <= 0) {
    fail("make_sample_set: num_examples and batch_size must be positive (got {} and {})",
         num_examples, batch_size);
  }
  SampleSet set;
  IndexSampler sampler(seed);
  set.indices.reserve(static_cast<size_t>(num_examples));
  for (int64_t i = 0; i < num_examples; ++i) {
    const auto index = static_cast<int64_t>(sampler.below(train.size()));
    set.indices.push_back(index);
    set.num_tokens += train[static_cast<size_t>(index)].length();
  }
  for (int64_t start = 0; start < num_examples; start += batch_size) {
    const int64_t end = std::min(num_examples, start + batch_size);
    std::vector<const Feature*> members;
    for (int64_t i = start; i < end; ++i) {
      members.push_back(&train[static_cast<size_t>(set.indices[static_cast<size_t>(i)])]);
    }
    set.batches.push_back(collate(members, head_kind, pad_id));
  }
  return set;
}

}  // namespace kprune
