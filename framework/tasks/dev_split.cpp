#include "framework/tasks/dev_split.h"

#include <sstream>

#include "framework/util/error.h"
#include "framework/util/sha256.h"

namespace kprune {

bool in_dev_split(const std::string& id, int64_t dev_per_mille) {
  const uint64_t bits = std::stoull(sha256_hex(id).substr(0, 15), nullptr, 16);
  return static_cast<int64_t>(bits % 1000) < dev_per_mille;
}

TsvSplit split_tsv_by_id(const std::string& bytes, int64_t dev_per_mille, bool has_header) {
  if (dev_per_mille <= 0 || dev_per_mille >= 1000) {
    fail("dev split: the dev share must be in (0, 1000) per mille, got {}", dev_per_mille);
  }
  TsvSplit split;
  std::istringstream lines(bytes);
  std::string line;
  bool first = true;
  while (std::getline(lines, line)) {
    if (first && has_header) {
      split.train += line + "\n";
      split.dev += line + "\n";
      first = false;
      continue;
    }
    first = false;
    if (line.empty()) continue;
    const bool dev = in_dev_split(line.substr(0, line.find('\t')), dev_per_mille);
    (dev ? split.dev : split.train) += line + "\n";
    (dev ? split.dev_rows : split.train_rows) += 1;
  }
  return split;
}

}  // namespace kprune
