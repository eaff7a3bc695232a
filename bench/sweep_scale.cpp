// Coordinator scale: what rank 0 of a sweep spends per job, and the results file's write rate,
// for 1,000 to 50,000 jobs and 8 to 1,024 ranks.
//
// (a) A discrete-event model of a cluster: ranks - 1 simulated workers run N jobs of
//     simulated length (10 s +- 20 %, or durations drawn from the wall_time_s of a results file
//     with --times) while the coordinator's side runs for real: the real Scheduler, the real
//     ResultStore writing an HDF5 file in a temp directory, the JSON messages, pass by pass as
//     Coordinator::run_with_workers (framework/sweep/runner.cpp) makes them. The CPU time of
//     each pass is the coordinator's service time on the simulated clock, so a saturated
//     coordinator shows up as queueing: "latency" is the time from a worker's result reaching
//     rank 0 to the worker starting its next job (its next probe), the per-job overhead.
// (b) The real kprune-sweep under mpirun with stand-in jobs at the rank counts this machine
//     holds, beside the model of the same sweep: the per-job overhead is timed from the job
//     logs, the time on each rank from one job's end to the next one's start.
// The default (1,000 and 10,000 jobs) takes about 3 minutes; each simulated job costs a real
// HDF5 write, so --jobs 1000 5000 10000 50000 takes about 15.
#include <fcntl.h>
#include <fmt/format.h>
#include <hdf5.h>
#include <sys/stat.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bench/bench_support.h"
#include "framework/sweep/job_json.h"
#include "framework/sweep/scheduler.h"
#include "framework/sweep/store.h"
#include "framework/util/error.h"
#include "framework/util/progress.h"

namespace {

using kprune::Params;
using kprune::sweep::JobResult;
using kprune::sweep::JobSpec;
using kprune::sweep::NumericDataset;
using kprune::sweep::ResultStore;
using kprune::sweep::RunRecord;
using kprune::sweep::Scheduler;
using nlohmann::json;

// The coordinator's and the workers' sleep between probes for a message (runner.cpp).
constexpr double kPollIntervalS = 0.002;

struct Options {
  std::vector<int64_t> jobs{1000, 10000};
  std::vector<int> ranks{8, 64, 256, 1024};
  double job_s = 10.0;
  double spread = 0.2;  // job length uniform in job_s x [1 - spread, 1 + spread]
  std::string times;    // a results file whose done rows' wall_time_s are the job lengths
  int teachers = 16;    // recipe jobs; every other job waits for one of them
  int seeds = 3;        // cache keys per teacher
  std::string masks = "4x4x1024";  // layers x heads x ffn of the masks in a result (mini-bert)
  int64_t sample_size = 2048;      // sample indices each result carries
  std::vector<int> mpi_ranks{8, 16};
  int mpi_jobs_per_worker = 20;
  double mpi_job_s = 0.2;
};

double cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

std::string fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("kprune-bench-scale-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

JobSpec make_spec(const std::string& kind, Params params, std::string cache_key,
                  std::vector<std::string> depends_on) {
  params.set("kind", kind);
  JobSpec spec;
  spec.id = kprune::sweep::job_id(params);
  spec.kind = kind;
  spec.params = std::move(params);
  spec.cache_key = std::move(cache_key);
  spec.depends_on = std::move(depends_on);
  return spec;
}

// A grid shaped like the expander's output: one recipe (finetune) job per teacher first, then
// the prune jobs grouped by teacher, seeds innermost, so neighbouring jobs alternate cache keys.
// No teachers: independent jobs of one cache key, like the stand-in grid of the real runs.
std::vector<JobSpec> make_grid(int64_t jobs, int teachers, int seeds) {
  const std::vector<std::string> pruners{"kprune", "kwon", "magnitude", "kcm"};
  std::vector<JobSpec> grid;
  std::vector<std::string> checkpoints;
  for (int teacher = 0; teacher < teachers; ++teacher) {
    Params params;
    params.set("model", fmt::format("model{}", teacher / 4));
    params.set("task", fmt::format("task{}", teacher % 4));
    params.set("epochs", "3");
    params.set("lr", "5e-05");
    grid.push_back(make_spec("finetune", params, "", {}));
    checkpoints.push_back("results/grid.artifacts/" + grid.back().id);
  }
  const int64_t per_teacher = (jobs - teachers + std::max(teachers, 1) - 1) / std::max(teachers, 1);
  for (int64_t j = 0; static_cast<int64_t>(grid.size()) < jobs; ++j) {
    Params params;
    params.set("pruner", pruners[static_cast<size_t>(j / seeds) % pruners.size()]);
    params.set("flops_reduction",
               kprune::canonical_number(0.3 + 0.001 * static_cast<double>(j / seeds / 4)));
    params.set("sample_size", "2048");
    if (teachers == 0) {
      params.set("tag", std::to_string(j));
      grid.push_back(make_spec("prune", params, "task=t", {}));
      continue;
    }
    const auto teacher = static_cast<size_t>(j / per_teacher);
    const int64_t seed = j % seeds;
    params.set("model", fmt::format("model{}", teacher / 4));
    params.set("task", fmt::format("task{}", teacher % 4));
    params.set("checkpoint", checkpoints[teacher]);
    params.set("seed", std::to_string(seed));
    const std::string cache_key = fmt::format("checkpoint={} task=task{} seed={} sample_size=2048",
                                              checkpoints[teacher], teacher % 4, seed);
    grid.push_back(make_spec("prune", params, cache_key, {grid[teacher].id}));
  }
  return grid;
}

// What a worker sends back for a job of `kind`: a prune job's result carries masks and sample
// indices. The coordinator takes the job from its own table, so one message serves every job.
std::string result_message(const std::string& kind, const Options& options) {
  JobResult result;
  result.status = "done";
  result.attrs = {{"metric_name", "accuracy"},
                  {"host", "node0001"},
                  {"device", "cuda:0"},
                  {"start_time", "2026-01-01T00:00:00Z"},
                  {"end_time", "2026-01-01T00:00:10Z"}};
  result.metrics = {{"accuracy", 91.3}, {"flops_before", 21.7}, {"flops_after", 10.8}};
  result.teacher_metrics = {{"accuracy", 92.4}};
  result.times = {
      {"teacher", 0.0}, {"prune", options.job_s}, {"eval", 0.5}, {"total", options.job_s}};
  int64_t layers = 0, heads = 0, ffn = 0;
  if (!options.masks.empty() &&
      std::sscanf(options.masks.c_str(), "%ldx%ldx%ld", &layers, &heads, &ffn) != 3)
    kprune::fail("--masks {}: expected LAYERSxHEADSxFFN like 12x12x3072", options.masks);
  if (kind == "prune" && layers > 0) {
    for (const auto& [name, width] : {std::pair{"head_masks", heads}, {"neuron_masks", ffn}}) {
      NumericDataset masks;
      masks.type = NumericDataset::Type::kFloat32;
      masks.shape = {layers, width};
      masks.reals.assign(static_cast<size_t>(layers * width), 1.0);
      result.datasets[name] = std::move(masks);
    }
  }
  if (kind == "prune" && options.sample_size > 0) {
    NumericDataset indices;
    indices.type = NumericDataset::Type::kInt64;
    indices.shape = {options.sample_size};
    for (int64_t i = 0; i < options.sample_size; ++i) indices.integers.push_back(i * 7);
    result.datasets["sample_indices"] = std::move(indices);
  }
  return json{{"type", "result"},
              {"result", kprune::sweep::result_to_json(result)},
              {"wall_time_s", options.job_s},
              {"peak_rss_mb", 2048.0}}
      .dump();
}

// Job lengths: recorded ones (done rows of a results file) or job_s +- spread.
std::vector<double> recorded_times(const std::string& path) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) kprune::fail("--times {}: cannot open it as an HDF5 results file", path);
  const hid_t summary = H5Dopen2(file, "summary", H5P_DEFAULT);
  const hid_t space = summary < 0 ? -1 : H5Dget_space(summary);
  hsize_t rows = 0;
  if (space >= 0) H5Sget_simple_extent_dims(space, &rows, nullptr);
  std::vector<double> times(rows);
  const hid_t type = H5Tcreate(H5T_COMPOUND, sizeof(double));
  H5Tinsert(type, "wall_time_s", 0, H5T_NATIVE_DOUBLE);
  const bool read =
      rows > 0 && H5Dread(summary, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, times.data()) >= 0;
  H5Tclose(type);
  if (space >= 0) H5Sclose(space);
  if (summary >= 0) H5Dclose(summary);
  H5Fclose(file);
  if (!read) kprune::fail("--times {}: no /summary wall_time_s to read", path);
  times.erase(
      std::remove_if(times.begin(), times.end(), [](double seconds) { return !(seconds > 0); }),
      times.end());
  if (times.empty()) kprune::fail("--times {}: no positive wall_time_s", path);
  return times;
}

struct ModelRow {
  int64_t jobs = 0;
  int ranks = 0;
  double coordinator_cpu_s = 0;  // every pass's CPU time
  double decode_cpu_s = 0;       // a result message to a RunRecord
  double schedule_cpu_s = 0;     // Scheduler calls
  double write_cpu_s = 0;        // ResultStore::write
  int64_t writes = 0;
  // Message received -> the worker starts its next job, summed over the jobs handed out.
  double latency_sum_s = 0;
  int64_t latencies = 0;
  double mean_job_s = 0;
  double makespan_s = 0;  // simulated
};

// A worker's message on the simulated clock.
struct Arrival {
  double time;
  int rank;
  bool operator>(const Arrival& other) const {
    return time != other.time ? time > other.time : rank > other.rank;
  }
};

class ClusterModel {
 public:
  ClusterModel(const Options& options, int64_t jobs, int ranks, const std::vector<double>& times)
      : grid_(make_grid(jobs, options.teachers, options.seeds)),
        ranks_(ranks),
        dir_(fresh_dir(fmt::format("model-{}-{}", jobs, ranks))),
        store_(dir_ + "/results.h5", "bench.toml", "# bench_sweep_scale"),
        scheduler_(grid_, 0, false),
        progress_("sweep", jobs, 2.0),
        outbox_(static_cast<size_t>(ranks)),
        random_(static_cast<unsigned>(jobs * 7919 + ranks)) {
    std::uniform_real_distribution<double> spread(1.0 - options.spread, 1.0 + options.spread);
    std::uniform_int_distribution<size_t> pick(0, times.empty() ? 0 : times.size() - 1);
    for (const JobSpec& job : grid_) {
      length_[job.id] = times.empty() ? options.job_s * spread(random_) : times[pick(random_)];
      if (result_text_.count(job.kind) == 0)
        result_text_[job.kind] = result_message(job.kind, options);
    }
    row_.jobs = jobs;
    row_.ranks = ranks;
  }
  ~ClusterModel() { std::filesystem::remove_all(dir_); }

  ModelRow run();

 private:
  // One pass of the coordinator's loop over `arrivals`, as Coordinator::run_with_workers does
  // it. Returns its CPU seconds; the jobs it handed out left after `handed_out_s` of them.
  double pass(const std::vector<Arrival>& arrivals, double& handed_out_s);
  std::string running_fields() const;

  std::vector<JobSpec> grid_;
  int ranks_;
  std::string dir_;
  ResultStore store_;
  Scheduler scheduler_;
  kprune::Progress progress_;
  std::map<std::string, double> length_;
  std::map<std::string, std::string> result_text_;  // per job kind
  std::vector<std::string> outbox_;                 // per rank: its message in flight
  std::priority_queue<Arrival, std::vector<Arrival>, std::greater<Arrival>> arrivals_;
  std::mt19937_64 random_;
  // The coordinator's state, as in run_with_workers.
  std::set<int> idle_;
  std::set<int> released_;
  std::map<int, std::string> worker_key_;
  std::multiset<std::string> busy_keys_;
  std::map<int, JobSpec> running_;
  std::vector<RunRecord> finished_;
  std::vector<int> sent_;  // ranks handed a job in this pass
  ModelRow row_;
  int64_t recorded_ = 0;
};

std::string ClusterModel::running_fields() const {
  std::string fields = fmt::format("failed {}", 0);
  if (!running_.empty()) {
    fields += "  running";
    for (const auto& [rank, job] : running_)
      fields += fmt::format(" r{}:{}", rank, job.id.substr(0, 8));
  }
  return fields;
}

double ClusterModel::pass(const std::vector<Arrival>& arrivals, double& handed_out_s) {
  const double start = cpu_seconds();
  sent_.clear();
  for (const Arrival& arrival : arrivals) {
    const double decode_start = cpu_seconds();
    const json message = json::parse(outbox_[static_cast<size_t>(arrival.rank)]);
    if (message.at("type") == "result") {
      RunRecord record;
      record.spec = running_.at(arrival.rank);
      record.result = kprune::sweep::result_from_json(message.at("result"));
      record.rank = arrival.rank;
      record.wall_time_s = message.at("wall_time_s").get<double>();
      record.peak_rss_mb = message.at("peak_rss_mb").get<double>();
      row_.decode_cpu_s += cpu_seconds() - decode_start;
      busy_keys_.erase(busy_keys_.find(record.spec.cache_key));
      running_.erase(arrival.rank);
      const double finish_start = cpu_seconds();
      const Scheduler::Outcome outcome = scheduler_.finish(record.spec.id, true);
      row_.schedule_cpu_s += cpu_seconds() - finish_start;
      record.result.attrs["attempts"] = std::to_string(outcome.attempts);
      finished_.push_back(std::move(record));
    }
    idle_.insert(arrival.rank);
  }
  const double schedule_start = cpu_seconds();
  for (auto it = idle_.begin(); !arrivals.empty() && it != idle_.end();) {
    const int rank = *it;
    if (std::optional<JobSpec> job = scheduler_.next(worker_key_[rank], busy_keys_)) {
      // The job message is built as for MPI_Send; the worker's answer is modelled in run().
      const std::string text =
          json{{"type", "job"}, {"spec", kprune::sweep::spec_to_json(*job)}}.dump();
      worker_key_[rank] = job->cache_key;
      busy_keys_.insert(job->cache_key);
      running_[rank] = *job;
      sent_.push_back(rank);
      it = idle_.erase(it);
    } else if (scheduler_.finished()) {
      released_.insert(rank);
      it = idle_.erase(it);
    } else {
      ++it;
    }
  }
  row_.schedule_cpu_s += cpu_seconds() - schedule_start;
  handed_out_s = cpu_seconds() - start;
  const bool wrote = !finished_.empty();
  if (wrote) {
    const double write_start = cpu_seconds();
    for (const RunRecord& record : finished_) store_.write(record);
    row_.write_cpu_s += cpu_seconds() - write_start;
    row_.writes += static_cast<int64_t>(finished_.size());
    recorded_ += static_cast<int64_t>(finished_.size());
    finished_.clear();
  }
  if ((wrote || recorded_ < row_.jobs) && progress_.due(recorded_))
    progress_.update(recorded_, running_fields());
  return cpu_seconds() - start;
}

ModelRow ClusterModel::run() {
  const int workers = ranks_ - 1;
  for (int rank = 1; rank <= workers; ++rank) {
    outbox_[static_cast<size_t>(rank)] = json{{"type", "ready"}}.dump();
    arrivals_.push({0.0, rank});
  }
  double total_length = 0;
  for (const auto& [id, seconds] : length_) total_length += seconds;
  row_.mean_job_s = total_length / static_cast<double>(grid_.size());
  std::uniform_real_distribution<double> probe(0.0, kPollIntervalS);
  double now = 0;
  while (static_cast<int>(released_.size()) < workers) {
    if (arrivals_.empty()) kprune::fail("model: workers wait but no job is running");
    // Nothing pending: the loop sleeps kPollInterval between probes (a probe costs nothing
    // next to a result), so a message waits for the next probe.
    if (arrivals_.top().time > now)
      now += kPollIntervalS * std::ceil((arrivals_.top().time - now) / kPollIntervalS);
    std::vector<Arrival> arrivals;
    while (!arrivals_.empty() && arrivals_.top().time <= now) {
      arrivals.push_back(arrivals_.top());
      arrivals_.pop();
    }
    double handed_out_s = 0;
    const double cpu = pass(arrivals, handed_out_s);
    row_.coordinator_cpu_s += cpu;
    std::map<int, double> answered_at;  // rank -> when its message arrived
    for (const Arrival& arrival : arrivals) answered_at[arrival.rank] = arrival.time;
    for (const int rank : sent_) {
      // The worker sees its job at its next probe, runs it, and its result arrives.
      const JobSpec& job = running_.at(rank);
      const double started = now + handed_out_s + probe(random_);
      outbox_[static_cast<size_t>(rank)] = result_text_.at(job.kind);
      arrivals_.push({started + length_.at(job.id), rank});
      // A rank that sat idle until a job became ready waited for the grid, not the coordinator.
      const auto answered = answered_at.find(rank);
      if (answered == answered_at.end()) continue;
      row_.latency_sum_s += started - answered->second;
      ++row_.latencies;
    }
    now += cpu;
  }
  row_.makespan_s = now;
  return row_;
}

// (b): the real program under mpirun.
struct MpiRow {
  int ranks = 0;
  int64_t jobs = 0;
  double wall_s = 0;
  double wait_s = 0;  // mean time a worker waited between two jobs
};

// A job's log is created when the job starts and last written when it ends (execute_job), so
// on each rank the time from one log's last write to the next log's creation is what the
// worker waited between the two jobs: its result going to rank 0 and its next job coming back.
double mean_wait_between_jobs(const std::string& logs_dir) {
  std::map<int, std::vector<std::pair<double, double>>> jobs_of_rank;  // (start, end)
  const auto seconds = [](const statx_timestamp& time) {
    return static_cast<double>(time.tv_sec) + 1e-9 * static_cast<double>(time.tv_nsec);
  };
  for (const auto& entry : std::filesystem::directory_iterator(logs_dir)) {
    struct statx times {};
    if (statx(AT_FDCWD, entry.path().c_str(), 0, STATX_BTIME | STATX_MTIME, &times) != 0 ||
        (times.stx_mask & STATX_BTIME) == 0) {
      kprune::fail("{}: the file system gives no creation time to time the job by",
                   entry.path().string());
    }
    std::string first_line;
    std::getline(std::ifstream(entry.path()), first_line);
    const size_t rank_at = first_line.find(" rank ");
    if (rank_at == std::string::npos)
      kprune::fail("{}: no rank in its first line \"{}\"", entry.path().string(), first_line);
    const int rank = std::stoi(first_line.substr(rank_at + 6));
    jobs_of_rank[rank].emplace_back(seconds(times.stx_btime), seconds(times.stx_mtime));
  }
  double waited = 0;
  int64_t waits = 0;
  for (auto& [rank, jobs] : jobs_of_rank) {
    std::sort(jobs.begin(), jobs.end());
    for (size_t i = 1; i < jobs.size(); ++i, ++waits) waited += jobs[i].first - jobs[i - 1].second;
  }
  if (waits == 0) kprune::fail("{}: no rank ran two jobs", logs_dir);
  return waited / static_cast<double>(waits);
}

MpiRow measure_mpi(int ranks, const Options& options) {
  const std::string dir = fresh_dir(fmt::format("mpi-{}", ranks));
  const int workers = ranks - 1;
  const int64_t jobs = static_cast<int64_t>(workers) * options.mpi_jobs_per_worker;
  std::string tags;
  for (int64_t i = 0; i < jobs; ++i) tags += fmt::format("{}{}", i == 0 ? "" : ", ", i);
  const std::string config = dir + "/scale.toml";
  std::ofstream(config) << fmt::format(
      "[sweep]\noutput = \"{}/results.h5\"\n[grids.main]\nkind = \"standin\"\ntask = \"t\"\n"
      "tag = [{}]\nduration_s = {}\n",
      dir, tags, options.mpi_job_s);
  MpiRow row;
  row.ranks = ranks;
  row.jobs = jobs;
  row.wall_s = kprune::bench::timed_command(
      fmt::format("OPENBLAS_NUM_THREADS=1 mpirun --allow-run-as-root --oversubscribe -np {} {} {}",
                  ranks, KPRUNE_SWEEP_BIN, config));
  row.wait_s = mean_wait_between_jobs(dir + "/results.logs");
  std::filesystem::remove_all(dir);
  return row;
}

void print_model_row(const ModelRow& row) {
  const auto per_job_us = [&](double seconds) {
    return 1e6 * seconds / static_cast<double>(row.jobs);
  };
  const double latency_s =
      row.latencies > 0 ? row.latency_sum_s / static_cast<double>(row.latencies) : 0.0;
  fmt::print(
      "| {:>6} | {:>5} | {:>8.0f} | {:>7.0f} | {:>7.0f} | {:>7.0f} | {:>8.2f} | {:>7.4f} % | "
      "{:>6.1f} % | {:>6.0f} |\n",
      row.jobs, row.ranks, per_job_us(row.coordinator_cpu_s), per_job_us(row.decode_cpu_s),
      per_job_us(row.schedule_cpu_s), per_job_us(row.write_cpu_s), 1e3 * latency_s,
      100.0 * latency_s / row.mean_job_s, 100.0 * row.coordinator_cpu_s / row.makespan_s,
      static_cast<double>(row.writes) / row.write_cpu_s);
  std::fflush(stdout);
}

void print_model_header() {
  fmt::print(
      "|   jobs | ranks | us/job | decode | schedule | write | latency ms | % of a job | "
      "coordinator busy | HDF5 writes/s |\n"
      "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Coordinator scale: per-job coordinator cost and HDF5 write rate"};
  app.add_option("--jobs", options.jobs, "job counts of the model")->capture_default_str();
  app.add_option("--ranks", options.ranks, "rank counts of the model (coordinator included)")
      ->capture_default_str();
  app.add_option("--job-s", options.job_s, "mean simulated job length")->capture_default_str();
  app.add_option("--spread", options.spread, "job length spread (fraction)")->capture_default_str();
  app.add_option("--times", options.times, "results file whose wall_time_s are the job lengths");
  app.add_option("--teachers", options.teachers, "recipe jobs the others wait for")
      ->capture_default_str();
  app.add_option("--masks", options.masks, "LAYERSxHEADSxFFN of the masks in each result")
      ->capture_default_str();
  app.add_option("--sample-size", options.sample_size, "sample indices in each result")
      ->capture_default_str();
  app.add_option("--mpi-ranks", options.mpi_ranks, "rank counts of the real runs")
      ->capture_default_str();
  app.add_option("--mpi-jobs-per-worker", options.mpi_jobs_per_worker)->capture_default_str();
  app.add_option("--mpi-job-s", options.mpi_job_s, "stand-in job length of the real runs")
      ->capture_default_str();
  app.add_flag_callback(
      "--no-mpi", [&] { options.mpi_ranks.clear(); }, "model only");
  CLI11_PARSE(app, argc, argv);
  const std::vector<double> times =
      options.times.empty() ? std::vector<double>{} : recorded_times(options.times);

  fmt::print(
      "model: {} teachers x {} seeds, results with {} masks and {} sample indices, jobs {}\n",
      options.teachers, options.seeds, options.masks, options.sample_size,
      times.empty() ? fmt::format("{} s +- {:.0f} %", options.job_s, 100 * options.spread)
                    : fmt::format("drawn from {} recorded times", times.size()));
  print_model_header();
  for (const int64_t jobs : options.jobs) {
    for (const int ranks : options.ranks)
      print_model_row(ClusterModel(options, jobs, ranks, times).run());
  }
  if (options.mpi_ranks.empty()) return 0;
  // The model of the real runs' sweep: independent stand-in jobs of one length, no payload.
  Options standin = options;
  standin.job_s = options.mpi_job_s;
  standin.spread = 0;
  standin.teachers = 0;
  standin.masks.clear();
  standin.sample_size = 0;
  fmt::print(
      "\nreal kprune-sweep under mpirun, {} stand-in jobs per worker x {} s: a worker's wait "
      "between two jobs, from the job logs, and in the model of the same sweep:\n"
      "| ranks | jobs | wall s | real wait ms/job | model wait ms/job | model us/job |\n"
      "|---:|---:|---:|---:|---:|---:|\n",
      options.mpi_jobs_per_worker, options.mpi_job_s);
  for (const int ranks : options.mpi_ranks) {
    const MpiRow real = measure_mpi(ranks, options);
    const ModelRow model = ClusterModel(standin, real.jobs, ranks, {}).run();
    fmt::print("| {} | {} | {:.2f} | {:.2f} | {:.2f} | {:.0f} |\n", ranks, real.jobs, real.wall_s,
               1e3 * real.wait_s, 1e3 * model.latency_sum_s / static_cast<double>(model.latencies),
               1e6 * model.coordinator_cpu_s / static_cast<double>(model.jobs));
    std::fflush(stdout);
  }
  return 0;
}
