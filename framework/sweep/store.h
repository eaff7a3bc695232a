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

  // Appends the summary row, replaces /runs/<id>, flushes. When the file was removed or
  // replaced since it was opened (its folder deleted, another file moved over it), or a write
  // fails (read-only or full file system), the results so far are first copied out of the
  // file we hold open to a rescue file, which takes over (path() then names it).
  void write(const RunRecord& record);

  // The file the results are in: the output path, or its rescue copy.
  const std::string& path() const { return path_; }

 private:
  void write_here(const RunRecord& record);
  // Why the file we hold is no longer the one at path_ (empty: it still is).
  std::string moved_away() const;
  // Why the file system cannot take this record safely (empty: it can).
  std::string no_room_for(const RunRecord& record) const;
  // Copies the file we hold (its state at the last flush) to a new file and continues there.
  void relocate(const std::string& why);
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
  bool relocated_ = false;
  std::map<std::string, StoredJob> stored_;
  std::string previous_config_text_;
};

// Time now as ISO-8601 UTC ("2024-05-01T12:00:00Z").
std::string utc_now();

}  // namespace kprune::sweep
