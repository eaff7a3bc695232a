#pragma once
// A progress line for long work: done/total, rate, ETA and free-form fields, printed to
// stderr at most every `min_interval_s` seconds (and always at the end).
#include <cstdint>
#include <string>

#include "framework/util/timer.h"

namespace kprune {

class Progress {
 public:
  Progress(std::string label, int64_t total, double min_interval_s = 2.0);
  // Reports that `done` of `total` steps are finished; `fields` is appended (e.g. "loss 0.31").
  void update(int64_t done, const std::string& fields = "");
  // Whether update(done) would print now: a caller can skip building costly fields.
  bool due(int64_t done) const;
  void finish(const std::string& fields = "");
  double elapsed_s() const { return clock_.seconds(); }

 private:
  void print(int64_t done, const std::string& fields);

  std::string label_;
  int64_t total_;
  double min_interval_s_;
  double last_print_s_ = -1e9;
  Stopwatch clock_;
};

std::string format_duration(double seconds);

}  // namespace kprune
