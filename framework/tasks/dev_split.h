#pragma once
// A deterministic train/dev split of a TSV file, for tasks whose dev set we do not have (the
// QQP train subset in shared/data): a row goes to dev iff the first 60 bits of sha256(its first
// field, the row id) modulo 1000 are below `dev_per_mille`. The choice depends on the row alone,
// not on the file's order or size; lines are copied byte for byte, in order.
#include <cstdint>
#include <string>

namespace kprune {

struct TsvSplit {
  std::string train, dev;  // file contents; a header line goes to both
  int64_t train_rows = 0, dev_rows = 0;
};

TsvSplit split_tsv_by_id(const std::string& bytes, int64_t dev_per_mille, bool has_header);

// True when the row with this first field goes to dev.
bool in_dev_split(const std::string& id, int64_t dev_per_mille);

}  // namespace kprune
