#include "framework/sweep/runner.h"

#include <fmt/format.h>
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <new>
#include <set>
#include <thread>

#include "framework/sweep/environment.h"
#include "framework/sweep/job_json.h"
#include "framework/sweep/resume.h"
#include "framework/sweep/scheduler.h"
#include "framework/util/error.h"
#include "framework/util/memory.h"
#include "framework/util/progress.h"
#include "framework/util/timer.h"

namespace kprune::sweep {
namespace {

using nlohmann::json;

constexpr int kTagToCoordinator = 1;
constexpr int kTagToWorker = 2;
constexpr auto kPollInterval = std::chrono::milliseconds(2);

// SIGINT/SIGTERM: the first asks for a clean stop (finish and record what runs, hand out
// nothing more); a second one ends the process at once.
volatile std::sig_atomic_t stop_signals = 0;

extern "C" void on_stop_signal(int signal_number) {
  stop_signals = stop_signals + 1;
  if (stop_signals >= 2) {
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
  }
}

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

void send_json(int destination, int tag, const json& message) {
  const std::string text = message.dump();
  MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, destination, tag, MPI_COMM_WORLD);
}

// Receives a pending message with `tag` from `source` (or any), without blocking when
// `wait` is false. Polling with a short sleep keeps idle ranks off the CPU, which MPI's own
// blocking receive would spin on.
bool receive_json(int source, int tag, bool wait, json& message, int& from) {
  MPI_Status status;
  int pending = 0;
  while (true) {
    MPI_Iprobe(source, tag, MPI_COMM_WORLD, &pending, &status);
    if (pending != 0 || !wait) break;
    std::this_thread::sleep_for(kPollInterval);
  }
  if (pending == 0) return false;
  int length = 0;
  MPI_Get_count(&status, MPI_CHAR, &length);
  std::string text(static_cast<size_t>(length), '\0');
  MPI_Recv(text.data(), length, MPI_CHAR, status.MPI_SOURCE, tag, MPI_COMM_WORLD,
           MPI_STATUS_IGNORE);
  message = json::parse(text);
  from = status.MPI_SOURCE;
  return true;
}

json settings_json(const RunOptions& options) {
  return {{"device", options.device},
          {"data_dirs", options.data_dirs},
          {"artifacts_dir", options.artifacts_dir},
          {"logs_dir", logs_dir_for(options.output)}};
}

WorkerContext make_context(const MpiSession& mpi) {
  // Jobs size their own thread pools from context.threads; BLAS inside them stays serial.
  setenv("OMP_NUM_THREADS", "1", 0);
  setenv("OPENBLAS_NUM_THREADS", "1", 0);
  WorkerContext context;
  context.rank = mpi.rank();
  context.host = host_name();
  context.threads = std::max(1, available_cores() / std::max(1, mpi.local_size()));
  return context;
}

RunRecord failed_record(const JobSpec& spec, int64_t rank, const std::string& error) {
  RunRecord record;
  record.spec = spec;
  record.rank = rank;
  record.result.status = "failed";
  record.result.error = error;
  return record;
}

class Coordinator {
 public:
  Coordinator(const MpiSession& mpi, const std::vector<JobSpec>& jobs, const RunOptions& options,
              const JobRegistry& registry);
  RunReport run();

 private:
  void run_here();
  void run_with_workers();
  // Takes a finished attempt (or requeues it for a retry) and the dependents it failed into
  // the records to write.
  void handle(RunRecord record);
  // Writes the records handle() took; false when there were none.
  bool record_finished();
  void report_progress();
  // True when a signal stopped the hand-out just now.
  bool check_signals();
  // Warns when a job read a checkpoint whose sha256 differs from what earlier jobs read there.
  void check_checkpoint_unchanged(const RunRecord& record);
  std::string running_fields() const;
  int64_t progress_total() const { return static_cast<int64_t>(plan_.to_run.size()); }

  const MpiSession& mpi_;
  const RunOptions& options_;
  const JobRegistry& registry_;
  ResultStore store_;
  ResumePlan plan_;
  Scheduler scheduler_;
  Progress progress_;
  RunReport report_;
  std::map<int, JobSpec> running_;   // rank -> job
  std::vector<RunRecord> finished_;  // handled, not yet written
  std::vector<JobSpec> blocked_;     // inputs missing: recorded as skipped
  // checkpoint -> (sha256 -> id of the first job that read it)
  std::map<std::string, std::map<std::string, std::string>> checkpoint_hashes_;
};

// The plan without the jobs whose inputs are missing.
ResumePlan without_blocked(ResumePlan plan, const std::map<std::string, std::string>& blocked) {
  plan.to_run.erase(std::remove_if(plan.to_run.begin(), plan.to_run.end(),
                                   [&](const JobSpec& job) { return blocked.count(job.id) != 0; }),
                    plan.to_run.end());
  return plan;
}

Coordinator::Coordinator(const MpiSession& mpi, const std::vector<JobSpec>& jobs,
                         const RunOptions& options, const JobRegistry& registry)
    : mpi_(mpi),
      options_(options),
      registry_(registry),
      store_(options.output, options.config_path, options.config_text),
      plan_(without_blocked(plan_resume(jobs, store_.stored_jobs(), store_.previous_config_text(),
                                        options.config_text),
                            options.blocked)),
      scheduler_(plan_.to_run, options.retries, options.fail_fast),
      progress_("sweep", static_cast<int64_t>(plan_.to_run.size()), options.progress_interval_s) {
  report_.total = static_cast<int64_t>(jobs.size());
  report_.skipped = static_cast<int64_t>(plan_.skipped.size());
  for (const JobSpec& job : jobs)
    if (options.blocked.count(job.id) != 0) blocked_.push_back(job);
}

RunReport Coordinator::run() {
  std::cerr << describe(plan_, options_.output);
  for (const JobSpec& job : blocked_) {
    RunRecord record;
    record.spec = job;
    record.rank = -1;
    record.result.status = "skipped";
    record.result.error = "inputs missing: " + options_.blocked.at(job.id);
    store_.write(record);
    report_.records.push_back(std::move(record));
  }
  report_.blocked = static_cast<int64_t>(blocked_.size());
  if (!blocked_.empty()) {
    std::cerr << fmt::format("sweep: {} job(s) recorded as skipped: their inputs are missing\n",
                             blocked_.size());
  }
  std::cerr << fmt::format("sweep: {} job(s) to run on {} rank(s), results in {}\n",
                           plan_.to_run.size(), mpi_.size(), options_.output);
  if (mpi_.size() == 1) {
    run_here();
  } else {
    run_with_workers();
  }
  report_.interrupted = scheduler_.stopped() && report_.done + report_.failed < progress_total();
  report_.output = store_.path();
  return report_;
}

bool Coordinator::check_signals() {
  if (stop_signals == 0 || scheduler_.stopped()) return false;
  scheduler_.stop();
  std::cerr << fmt::format(
      "sweep: stop requested: recording the {} job(s) in flight, then exiting "
      "(signal again to exit at once)\n",
      scheduler_.running());
  return true;
}

void Coordinator::run_here() {
  WorkerContext context = make_context(mpi_);
  context.device = resolve_device(options_.device, mpi_.local_rank(), visible_gpu_count());
  context.data_dirs = options_.data_dirs;
  context.artifacts_dir = options_.artifacts_dir;
  std::string last_key;
  while (true) {
    check_signals();
    std::optional<JobSpec> job = scheduler_.next(last_key);
    if (!job) break;
    last_key = job->cache_key;
    running_[0] = *job;
    RunRecord record = execute_job(*job, context, registry_, logs_dir_for(options_.output));
    running_.erase(0);
    handle(std::move(record));
    record_finished();
  }
}

void Coordinator::run_with_workers() {
  std::set<int> idle;
  std::set<int> released;
  std::map<int, std::string> worker_key;
  std::multiset<std::string> busy_keys;  // of the running jobs
  const json settings = settings_json(options_);
  const int workers = mpi_.size() - 1;
  while (static_cast<int>(released.size()) < workers) {
    bool changed = check_signals();
    // Every pending message, not one per pass: at 1,024 ranks results arrive faster than
    // passes. Each worker has at most one message in flight, so this ends.
    json message;
    int from = 0;
    while (receive_json(MPI_ANY_SOURCE, kTagToCoordinator, false, message, from)) {
      changed = true;
      if (message.at("type") == "result") {
        RunRecord record;
        record.spec = running_.at(from);
        record.result = result_from_json(message.at("result"));
        record.rank = from;
        record.wall_time_s = message.at("wall_time_s").get<double>();
        record.peak_rss_mb = message.at("peak_rss_mb").get<double>();
        busy_keys.erase(busy_keys.find(record.spec.cache_key));
        running_.erase(from);
        handle(std::move(record));
      }
      idle.insert(from);
    }
    // Without news there is nothing new to hand out.
    for (auto it = idle.begin(); changed && it != idle.end();) {
      const int rank = *it;
      if (std::optional<JobSpec> job = scheduler_.next(worker_key[rank], busy_keys)) {
        send_json(rank, kTagToWorker,
                  {{"type", "job"}, {"spec", spec_to_json(*job)}, {"settings", settings}});
        worker_key[rank] = job->cache_key;
        busy_keys.insert(job->cache_key);
        running_[rank] = *job;
        it = idle.erase(it);
      } else if (scheduler_.finished()) {
        send_json(rank, kTagToWorker, {{"type", "stop"}});
        released.insert(rank);
        it = idle.erase(it);
      } else {
        ++it;
      }
    }
    // Written after the hand-out, so that workers do not wait for the disk.
    const bool wrote = record_finished();
    // Once everything is recorded (the final line is printed), only workers are released.
    if (!wrote && report_.done + report_.failed < progress_total()) report_progress();
    if (!changed) std::this_thread::sleep_for(kPollInterval);
  }
}

void Coordinator::check_checkpoint_unchanged(const RunRecord& record) {
  const auto sha = record.result.attrs.find("checkpoint_sha256");
  if (sha == record.result.attrs.end() || !record.spec.params.has("checkpoint")) return;
  auto& hashes = checkpoint_hashes_[record.spec.params.get_string("checkpoint", "")];
  if (!hashes.emplace(sha->second, record.spec.id).second || hashes.size() == 1) return;
  std::string earlier;
  for (const auto& [hash, job] : hashes) {
    if (hash != sha->second) earlier += fmt::format(" {} (job {})", hash.substr(0, 16), job);
  }
  std::cerr << fmt::format(
      "sweep: WARNING: checkpoint {} changed during the sweep: job {} read sha256 {}, earlier "
      "jobs read{}; each job's /runs attribute checkpoint_sha256 says which weights it used\n",
      record.spec.params.get_string("checkpoint", ""), record.spec.id, sha->second.substr(0, 16),
      earlier);
}

std::string Coordinator::running_fields() const {
  std::string fields = fmt::format("failed {}", report_.failed);
  if (mpi_.size() > 1 && !running_.empty()) {
    fields += "  running";
    for (const auto& [rank, job] : running_)
      fields += fmt::format(" r{}:{}", rank, job.id.substr(0, 8));
  }
  return fields;
}

void Coordinator::handle(RunRecord record) {
  const bool ok = record.result.status == "done";
  const Scheduler::Outcome outcome = scheduler_.finish(record.spec.id, ok);
  if (!outcome.final) {
    std::cerr << fmt::format("sweep: job {} failed (attempt {}), retrying: {}\n", record.spec.id,
                             outcome.attempts, record.result.error);
    return;
  }
  record.result.attrs["attempts"] = std::to_string(outcome.attempts);
  check_checkpoint_unchanged(record);
  if (!ok)
    std::cerr << fmt::format("sweep: job {} failed: {}\n", record.spec.id, record.result.error);
  const std::string id = record.spec.id;
  finished_.push_back(std::move(record));
  for (const JobSpec& dependent : outcome.dependents_failed)
    finished_.push_back(failed_record(dependent, -1, fmt::format("dependency failed: job {}", id)));
}

bool Coordinator::record_finished() {
  if (finished_.empty()) return false;
  for (RunRecord& record : finished_) {
    store_.write(record);
    (record.result.status == "done" ? report_.done : report_.failed) += 1;
    report_.records.push_back(std::move(record));
  }
  finished_.clear();
  report_progress();
  return true;
}

void Coordinator::report_progress() {
  const int64_t recorded = report_.done + report_.failed;
  // The running list costs O(ranks) to build: only for a line that is printed.
  if (progress_.due(recorded)) progress_.update(recorded, running_fields());
}

}  // namespace

MpiSession::MpiSession(int* argc, char*** argv) {
  MPI_Init(argc, argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &local_rank_);
  MPI_Comm_size(node, &local_size_);
  MPI_Comm_free(&node);
  install_stop_handlers();
}

MpiSession::~MpiSession() { MPI_Finalize(); }

int RunReport::exit_code() const {
  if (interrupted) return 3;
  return failed > 0 ? 1 : 0;
}

RunReport run_coordinator(const MpiSession& mpi, const std::vector<JobSpec>& jobs,
                          const RunOptions& options, const JobRegistry& registry) {
  return Coordinator(mpi, jobs, options, registry).run();
}

void run_worker(const MpiSession& mpi, const JobRegistry& registry) {
  WorkerContext context = make_context(mpi);
  send_json(0, kTagToCoordinator, {{"type", "ready"}});
  while (true) {
    json message;
    int from = 0;
    receive_json(0, kTagToWorker, true, message, from);
    if (message.at("type") == "stop") return;
    const JobSpec spec = spec_from_json(message.at("spec"));
    const json& settings = message.at("settings");
    RunRecord record;
    try {
      context.device = resolve_device(settings.at("device").get<std::string>(), mpi.local_rank(),
                                      visible_gpu_count());
      context.data_dirs = settings.at("data_dirs").get<std::map<std::string, std::string>>();
      context.artifacts_dir = settings.at("artifacts_dir").get<std::string>();
      record = execute_job(spec, context, registry, settings.at("logs_dir").get<std::string>());
    } catch (const std::exception& error) {
      record = failed_record(spec, mpi.rank(), error.what());
    }
    send_json(0, kTagToCoordinator,
              {{"type", "result"},
               {"result", result_to_json(record.result)},
               {"wall_time_s", record.wall_time_s},
               {"peak_rss_mb", record.peak_rss_mb}});
  }
}

void release_workers(const MpiSession& mpi) {
  for (int rank = 1; rank < mpi.size(); ++rank) {
    json message;
    int from = 0;
    receive_json(rank, kTagToCoordinator, true, message, from);  // its "ready"
    send_json(rank, kTagToWorker, {{"type", "stop"}});
  }
}

void abort_sweep(int exit_code) {
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::exit(exit_code);
}

std::string logs_dir_for(const std::string& output) {
  return std::filesystem::path(output).replace_extension(".logs").string();
}

RunRecord execute_job(const JobSpec& spec, WorkerContext& context, const JobRegistry& registry,
                      const std::string& logs_dir) {
  std::filesystem::create_directories(logs_dir);
  std::ofstream log(std::filesystem::path(logs_dir) / (spec.id + ".log"), std::ios::app);
  const std::string start_time = utc_now();
  log << fmt::format("== {} job {} ({}) on {} rank {} pid {} device {}\n== {}\n", start_time,
                     spec.id, spec.kind, context.host, context.rank, getpid(), context.device,
                     spec.params.canonical());
  log.flush();
  context.log = &log;
  if (!spec.cache_key.empty()) context.keep_only(spec.cache_key);

  RunRecord record;
  record.spec = spec;
  record.rank = context.rank;
  Stopwatch clock;
  try {
    record.result = registry.get(spec.kind).run(spec, context);
    if (record.result.status.empty()) record.result.status = "done";
  } catch (const std::bad_alloc&) {
    record.result = JobResult{"failed", "out of memory (std::bad_alloc)", {}, {}, {}, {}, {}};
  } catch (const std::exception& error) {
    record.result = JobResult{"failed", error.what(), {}, {}, {}, {}, {}};
  }
  context.log = nullptr;
  record.wall_time_s = clock.seconds();
  record.peak_rss_mb = peak_rss_mb();
  JobResult& result = record.result;
  result.times["total"] = record.wall_time_s;
  result.attrs["host"] = context.host;
  result.attrs["device"] = context.device;
  result.attrs["start_time"] = start_time;
  result.attrs["end_time"] = utc_now();
  log << fmt::format("== {} {} after {:.3f} s{}{}\n", result.attrs["end_time"], result.status,
                     record.wall_time_s, result.error.empty() ? "" : ": ", result.error);
  return record;
}

std::string summary_table(const std::vector<RunRecord>& records) {
  // Parameters whose value differs between records identify the rows; the rest is noise.
  std::map<std::string, std::set<std::string>> values;
  for (const RunRecord& record : records) {
    for (const auto& [key, value] : record.spec.params.items()) values[key].insert(value);
  }
  std::vector<std::string> varying;
  for (const auto& [key, seen] : values) {
    const bool everywhere =
        std::all_of(records.begin(), records.end(),
                    [&](const RunRecord& record) { return record.spec.params.has(key); });
    if (seen.size() > 1 || !everywhere) varying.push_back(key);
  }
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header{"job_id", "status", "metric", "wall_s"};
  header.insert(header.end(), varying.begin(), varying.end());
  header.push_back("error");
  rows.push_back(header);
  for (const RunRecord& record : records) {
    const JobResult& result = record.result;
    std::string metric = "-";
    auto name = result.attrs.find("metric_name");
    if (name != result.attrs.end() && result.metrics.count(name->second) != 0) {
      metric = fmt::format("{}={:.2f}", name->second, result.metrics.at(name->second));
    }
    std::vector<std::string> row{record.spec.id, result.status, metric,
                                 fmt::format("{:.2f}", record.wall_time_s)};
    for (const std::string& key : varying) row.push_back(record.spec.params.get_string(key, "-"));
    row.push_back(result.error.size() > 60 ? result.error.substr(0, 57) + "..." : result.error);
    rows.push_back(std::move(row));
  }
  std::vector<size_t> widths(header.size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) line += fmt::format("{:<{}}  ", row[i], widths[i]);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace kprune::sweep
