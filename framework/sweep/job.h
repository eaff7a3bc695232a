#pragma once
// The one interface between the sweep machinery and what a job does. A job kind is a name,
// the parameters it accepts and a runner; the real kinds (finetune, prune, latency) and the
// stand-in register themselves in experiments/jobs.
#include <any>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "framework/sweep/input_check.h"
#include "framework/util/params.h"

namespace kprune::sweep {

struct JobSpec {
  std::string id;                       // job_id(params): 16 hex chars
  std::string kind;                     // also params["kind"]
  Params params;                        // canonical key=value, including kind
  std::vector<std::string> depends_on;  // job ids that must finish first
  // Teacher artifact key (checkpoint, task, sample seed, sample size): jobs sharing it can
  // reuse what a worker loaded for the previous one. Empty: nothing to share.
  std::string cache_key;
};

// First 16 hex chars of sha256 of params.canonical(); independent of key order.
std::string job_id(const Params& params);

struct NumericDataset {
  enum class Type { kFloat32, kFloat64, kInt64 };
  Type type = Type::kFloat64;
  std::vector<int64_t> shape;
  std::vector<double> reals;      // kFloat32, kFloat64 (row-major)
  std::vector<int64_t> integers;  // kInt64 (row-major)

  int64_t element_count() const;
};

struct JobResult {
  std::string status;  // "done" or "failed"
  std::string error;   // the failure message
  // Task metrics in percent as in the paper's tables (accuracy, f1, spearman, ...), plus
  // "flops_before"/"flops_after" in GFLOPs where the job measures them.
  std::map<std::string, double> metrics;
  std::map<std::string, double> teacher_metrics;
  std::map<std::string, double> times;  // seconds: prune, eval, measure, search, tune, teacher
  // Stored as string attributes of /runs/<id>: metric_name (names the main metric),
  // label, checkpoint_sha256, ...; the runner adds host, device, start/end time.
  std::map<std::string, std::string> attrs;
  std::map<std::string, NumericDataset> datasets;  // head_masks, neuron_masks, sample_indices
};

// What a worker keeps between jobs and hands to each job.
class WorkerContext {
 public:
  int rank = 0;
  std::string host;
  std::string device = "cpu";  // "cpu" or "cuda:N", resolved from the sweep's device setting
  int threads = 1;             // intra-op threads this rank may use
  std::map<std::string, std::string> data_dirs;  // [data] of the config
  std::string artifacts_dir;                     // where recipe jobs write checkpoints
  std::ostream* log = nullptr;                   // this job's log file

  std::ostream& log_stream();

  // Worker-side artifact cache keyed by JobSpec::cache_key (or any string): a loaded teacher,
  // a tokenized sample set, teacher outputs. `make` runs on a miss.
  template <typename T>
  std::shared_ptr<T> cached(const std::string& key,
                            const std::function<std::shared_ptr<T>()>& make) {
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      ++cache_hits_;
      return std::any_cast<std::shared_ptr<T>>(it->second);
    }
    ++cache_misses_;
    std::shared_ptr<T> value = make();
    cache_[key] = value;
    return value;
  }
  // Keeps memory bounded: a worker holds the artifacts of one teacher at a time. Drops every
  // entry whose key does not start with `prefix` (jobs key their entries by cache_key + suffix).
  void keep_only(const std::string& prefix);
  int64_t cache_hits() const { return cache_hits_; }
  int64_t cache_misses() const { return cache_misses_; }

 private:
  std::map<std::string, std::any> cache_;
  int64_t cache_hits_ = 0;
  int64_t cache_misses_ = 0;
};

using JobRunner = std::function<JobResult(const JobSpec&, WorkerContext&)>;

struct JobKind {
  std::string name;
  // Accepted parameter keys; an entry ending in ".*" accepts every key with that prefix.
  std::vector<std::string> params;
  // Parameters that form the cache key, in order; absent ones are left out.
  std::vector<std::string> cache_params;
  JobRunner run;
  // Jobs that a job of this kind needs beside its grid, as (kind, parameters) of its own
  // parameters: e.g. the training that every FLOPs ratio of a retraining method shares. The
  // expander adds each once (a shared one serves every job that names it), before the jobs
  // that need it, and makes those wait for it. Null: none.
  std::function<std::vector<std::pair<std::string, Params>>(const Params&)> prerequisites;
  // The inputs of a job (checkpoints, data, corpora) that are missing or unusable, checked
  // without loading them; a job that throws here names its own parameter error. Null: none.
  std::function<std::vector<InputProblem>(const JobSpec&, InputCheckContext&)> check_inputs;

  bool accepts(const std::string& key) const;
};

class JobRegistry {
 public:
  void add(JobKind kind);
  // Throws kprune::Error naming the registered kinds (with a did-you-mean) when unknown.
  const JobKind& get(const std::string& name) const;
  bool has(const std::string& name) const { return kinds_.count(name) != 0; }
  std::vector<std::string> names() const;

 private:
  std::map<std::string, JobKind> kinds_;
};

// The process-wide registry that the program fills at start-up.
JobRegistry& job_registry();

}  // namespace kprune::sweep
