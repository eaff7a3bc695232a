#include "framework/tasks/squad_sample_set.h"

#include <algorithm>

#include "framework/tasks/index_sampler.h"
#include "framework/util/error.h"

namespace kprune {

SampleSet make_squad_sample_set(const std::vector<SquadFeature>& train, int64_t num_examples,
                                uint64_t seed, int64_t batch_size, int64_t pad_id) {
  if (train.empty()) fail("make_squad_sample_set: the training set is empty");
  if (num_examples <= 0 || batch_size <= 0) {
    fail("make_squad_sample_set: num_examples and batch_size must be positive (got {} and {})",
         num_examples, batch_size);
  }
  SampleSet set;
  IndexSampler sampler(seed);  // the draw of make_sample_set()
  for (int64_t i = 0; i < num_examples; ++i) {
    const auto index = static_cast<int64_t>(sampler.below(train.size()));
    set.indices.push_back(index);
    set.num_tokens += train[static_cast<size_t>(index)].tokens.length();
  }
  for (int64_t start = 0; start < num_examples; start += batch_size) {
    const int64_t end = std::min(num_examples, start + batch_size);
    std::vector<const SquadFeature*> members;
    for (int64_t i = start; i < end; ++i) {
      members.push_back(&train[static_cast<size_t>(set.indices[static_cast<size_t>(i)])]);
    }
    set.batches.push_back(collate_squad(members, true, pad_id));
  }
  return set;
}

}  // namespace kprune
