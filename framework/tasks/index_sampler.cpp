#include "framework/tasks/index_sampler.h"

#include <limits>

#include "framework/util/error.h"

namespace kprune {

uint64_t IndexSampler::below(uint64_t n) {
  if (n == 0) fail("IndexSampler::below: the range is empty");
  // 2^64 mod n, computed without 128-bit arithmetic: (2^64 - n) mod n.
  const uint64_t excess = (std::numeric_limits<uint64_t>::max() - n + 1) % n;
  const uint64_t limit = std::numeric_limits<uint64_t>::max() - excess;  // last accepted value
  while (true) {
    const uint64_t x = engine_();
    if (x <= limit) return x % n;
  }
}

}  // namespace kprune
