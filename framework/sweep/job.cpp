#include "framework/sweep/job.h"

#include <fmt/format.h>

#include <iostream>

#include "framework/sweep/suggest.h"
#include "framework/util/error.h"
#include "framework/util/sha256.h"

namespace kprune::sweep {

std::string job_id(const Params& params) { return sha256_hex(params.canonical()).substr(0, 16); }

int64_t NumericDataset::element_count() const {
  int64_t count = 1;
  for (int64_t extent : shape) count *= extent;
  return count;
}

std::ostream& WorkerContext::log_stream() { return log != nullptr ? *log : std::cerr; }

void WorkerContext::keep_only(const std::string& prefix) {
  for (auto it = cache_.begin(); it != cache_.end();) {
    it = it->first.compare(0, prefix.size(), prefix) == 0 ? std::next(it) : cache_.erase(it);
  }
}

bool JobKind::accepts(const std::string& key) const {
  for (const std::string& accepted : params) {
    if (accepted == key) return true;
    const bool is_prefix =
        accepted.size() >= 2 && accepted.compare(accepted.size() - 2, 2, ".*") == 0;
    if (is_prefix && key.size() > accepted.size() - 1 &&
        key.compare(0, accepted.size() - 1, accepted, 0, accepted.size() - 1) == 0) {
      return true;
    }
  }
  return false;
}

void JobRegistry::add(JobKind kind) {
  if (kinds_.count(kind.name) != 0) fail("job kind '{}' is registered twice", kind.name);
  kinds_.emplace(kind.name, std::move(kind));
}

const JobKind& JobRegistry::get(const std::string& name) const {
  auto it = kinds_.find(name);
  if (it == kinds_.end()) {
    fail("unknown job kind '{}'{} (registered: {})", name, did_you_mean(name, names()),
         fmt::join(names(), ", "));
  }
  return it->second;
}

std::vector<std::string> JobRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, kind] : kinds_) out.push_back(name);
  return out;
}

JobRegistry& job_registry() {
  static JobRegistry registry;
  return registry;
}

}  // namespace kprune::sweep
