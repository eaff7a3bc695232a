#pragma once
// The results file (docs/results-schema.md): an appendable /summary table and one
// /runs/<job_id> group per job. Only the coordinator writes it; every record is flushed as it
// is written, so a killed sweep leaves a readable file with every result it reported.
#include <cstdint>
#include <map>
#include <string>

#include "framework/sweep/job.h"

namespace kprune::sweep {

inline constexpr int64_t kSchemaVersion = 1;

// One job's outcome as the coordinator records it.
struct RunRecord {
  JobSpec spec;
  JobResult result;  // attrs carry host, device, start_time, end_time
  int64_t rank = 0;
  double wall_time_s = 0;
  double peak_rss_mb = 0;
};

// What an existing file says about a job: its last row.
struct StoredJob {
  std::string status;
  std::string params;
};

class ResultStore {
 public:
  // Creates `path` or opens it to append (resume). Stores the config path and text; the
  // text stored before is kept for previous_config_text().
  ResultStore(const std::string& path, const std::string& config_path,
              const std::string& config_text);
  // Opens an existing file read-only (dry run, reports); write() then fails.
  explicit ResultStore(const std::string& path);
  ~ResultStore();
  ResultStore(const ResultStore&) = delete;
  ResultStore& operator=(const ResultStore&) = delete;

  // job_id -> its last summary row (readers keep the last row per job).
  const std::map<std::string, StoredJob>& stored_jobs() const { return stored_; }
  // The config text of the previous run on this file; empty for a new file.
  const std::string& previous_config_text() const { return previous_config_text_; }

  // Appends the summary row, replaces /runs/<id>, flushes.
  void write(const RunRecord& record);

 private:
  void create_or_open(const std::string& config_path, const std::string& config_text);
  void open_existing(bool writable);
  void close();
  void read_summary();
  void write_summary_row(const RunRecord& record);
  void write_run_group(const RunRecord& record);

  std::string path_;
  int64_t file_ = -1;
  int64_t summary_ = -1;
  int64_t summary_type_ = -1;
  int64_t string_type_ = -1;
  int64_t rows_ = 0;
  bool writable_ = false;
  std::map<std::string, StoredJob> stored_;
  std::string previous_config_text_;
};

// Time now as ISO-8601 UTC ("2024-05-01T12:00:00Z").
std::string utc_now();

}  // namespace kprune::sweep
