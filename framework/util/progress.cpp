#include "framework/util/progress.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>

namespace kprune {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto total = static_cast<int64_t>(std::llround(seconds));
  if (total < 60) return fmt::format("{}s", total);
  if (total < 3600) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
}

Progress::Progress(std::string label, int64_t total, double min_interval_s)
    : label_(std::move(label)), total_(total), min_interval_s_(min_interval_s) {}

bool Progress::due(int64_t done) const {
  return done >= total_ || clock_.seconds() - last_print_s_ >= min_interval_s_;
}

void Progress::update(int64_t done, const std::string& fields) {
  if (!due(done)) return;
  last_print_s_ = clock_.seconds();
  print(done, fields);
}

void Progress::finish(const std::string& fields) { print(total_, fields); }

void Progress::print(int64_t done, const std::string& fields) {
  const double elapsed = clock_.seconds();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : -1.0;
  fmt::print(stderr, "[{}] {}/{} ({:.0f}%) elapsed {} eta {}{}{}\n", label_, done, total_,
             total_ > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 100.0,
             format_duration(elapsed), done >= total_ ? "0s" : format_duration(eta),
             fields.empty() ? "" : "  ", fields);
  std::fflush(stderr);
}

}  // namespace kprune
