#pragma once
// Uniform integer draws that are the same on every platform and standard library.
//
// The generator is std::mt19937_64 (its output sequence is fixed by the C++ standard) seeded
// with `seed`. std::uniform_int_distribution is not used: its algorithm is left to the
// library. Instead, a draw below n takes the next 64-bit output x, rejects it while
// x >= 2^64 - (2^64 mod n) (so that every residue is equally likely), and returns x mod n.
#include <cstdint>
#include <random>

namespace kprune {

class IndexSampler {
 public:
  explicit IndexSampler(uint64_t seed) : engine_(seed) {}
  // Uniform in [0, n); n must be positive.
  uint64_t below(uint64_t n);

 private:
  std::mt19937_64 engine_;
};

}  // namespace kprune
