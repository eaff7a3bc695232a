#pragma once
// Running a sweep's jobs. Rank 0 coordinates: it is the only writer of the results file,
// hands jobs to the other ranks as they ask (request/assign/result messages carrying JSON),
// prints progress and a summary. With one rank (no mpirun) it runs every job itself.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "framework/sweep/job.h"
#include "framework/sweep/store.h"

namespace kprune::sweep {

// MPI for the life of the program.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }  // among the ranks on this node
  int local_size() const { return local_size_; }

 private:
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
};

struct RunOptions {
  std::string output;       // the results file
  std::string config_path;  // stored with the results
  std::string config_text;
  std::string device = "auto";
  std::map<std::string, std::string> data_dirs;
  std::string artifacts_dir;
  int retries = 0;
  bool fail_fast = false;
  // Jobs whose inputs are missing (--skip-missing): id -> why; recorded as "skipped", not run.
  std::map<std::string, std::string> blocked;
  double progress_interval_s = 2.0;
};

struct RunReport {
  int64_t total = 0;    // jobs of the sweep (after --only/--filter)
  int64_t skipped = 0;  // done before this run
  int64_t done = 0;
  int64_t failed = 0;
  int64_t blocked = 0;             // recorded as skipped: inputs missing
  bool interrupted = false;        // SIGINT/SIGTERM or --fail-fast stopped the hand-out
  std::vector<RunRecord> records;  // this run's, in the order they were written
  std::string output;              // the results file (a rescue copy if the output went away)

  // 0 all done; 1 a job failed; 3 interrupted before every job ran.
  int exit_code() const;
};

// Rank 0. `jobs` is the whole (selected) sweep; jobs done in the results file are skipped.
RunReport run_coordinator(const MpiSession& mpi, const std::vector<JobSpec>& jobs,
                          const RunOptions& options, const JobRegistry& registry);
// Ranks > 0: runs what the coordinator hands out until it says stop.
void run_worker(const MpiSession& mpi, const JobRegistry& registry);
// Rank 0 when it ends without running jobs (dry run, bad config): lets the workers exit.
void release_workers(const MpiSession& mpi);
// Ends every rank at once (the coordinator failed while workers were busy).
[[noreturn]] void abort_sweep(int exit_code);

// Runs one job here, catching what it throws; fills host, device, times and the log file.
RunRecord execute_job(const JobSpec& spec, WorkerContext& context, const JobRegistry& registry,
                      const std::string& logs_dir);

// "<output without extension>.logs": one <job_id>.log per job.
std::string logs_dir_for(const std::string& output);

// The end-of-sweep table: one line per record with the parameters that vary between them.
std::string summary_table(const std::vector<RunRecord>& records);

}  // namespace kprune::sweep
