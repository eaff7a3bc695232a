// kprune-sweep end to end with the stand-in job: one process and MPI ranks, failures,
// resume, SIGTERM and a worker killed mid-sweep. The results file must stay readable (h5py)
// after every interruption and a rerun must complete every job exactly once.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "framework/util/files.h"
#include "tests/test_sweep_support.h"

namespace kprune::testing {
namespace {

const std::string kSweep = KPRUNE_SWEEP_BIN;
const std::string kMpirun = "mpirun --allow-run-as-root --oversubscribe -np 3 ";

// A grid of `tasks` x 4 ratios of stand-in jobs of `duration` seconds, plus `extra` TOML.
std::string write_config(const std::string& dir, int tasks, double duration,
                         const std::string& extra = "") {
  std::string task_list;
  for (int i = 0; i < tasks; ++i)
    task_list += (i == 0 ? "\"t" : ", \"t") + std::to_string(i) + "\"";
  const std::string path = dir + "/sweep.toml";
  std::ofstream(path) << "[sweep]\nname = \"test\"\noutput = \"" << dir
                      << "/results.h5\"\nsample_size = 8\n\n"
                      << "[grids.main]\nkind = \"standin\"\ntag = \"main\"\ntask = [" << task_list
                      << "]\nflops_reduction = [0.4, 0.5, 0.6, 0.7]\nduration_s = " << duration
                      << "\nmask_shape = \"2x4\"\n"
                      << extra;
  return path;
}

// job_id -> number of rows with status done; fails on a job done twice.
std::map<std::string, int> done_counts(const std::vector<SummaryRow>& rows) {
  std::map<std::string, int> counts;
  for (const SummaryRow& row : rows) {
    if (row.status == "done") ++counts[row.job_id];
  }
  for (const auto& [id, count] : counts)
    EXPECT_EQ(count, 1) << "job " << id << " recorded done " << count << " times";
  return counts;
}

// Ids of the jobs a dry run lists (first column).
std::set<std::string> listed_ids(const std::string& dry_run_output,
                                 const std::string& marker = "") {
  std::set<std::string> ids;
  std::istringstream lines(dry_run_output);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > 18 && line.find("  standin") == 16 &&
        (marker.empty() || line.find(marker) != std::string::npos)) {
      ids.insert(line.substr(0, 16));
    }
  }
  return ids;
}

TEST(SweepRunner, OneProcessRecordsEveryJobAndAFailureDoesNotStopTheSweep) {
  const std::string dir = temp_dir("runner");
  const std::string config = write_config(dir, 2, 0.05, R"(
[[grids.main.include]]
task = "t0"
fail = true
)");
  const CommandResult run = run_command(kSweep + " " + config);
  EXPECT_EQ(run.exit_code, 1) << run.output;  // a job failed
  const auto rows = read_summary_with_h5py(dir + "/results.h5");
  ASSERT_EQ(rows.size(), 9u) << run.output;
  EXPECT_EQ(done_counts(rows).size(), 8u);
  const auto failed = std::find_if(rows.begin(), rows.end(),
                                   [](const SummaryRow& row) { return row.status == "failed"; });
  ASSERT_NE(failed, rows.end());
  EXPECT_NE(failed->error.find("failed on request (fail=true)"), std::string::npos)
      << failed->error;
  EXPECT_NE(run.output.find("8 done, 1 failed"), std::string::npos) << run.output;
  EXPECT_TRUE(std::filesystem::exists(dir + "/results.logs/" + rows.front().job_id + ".log"));

  // Resume: only the failed job runs again (and fails again, appending a row).
  const CommandResult rerun = run_command(kSweep + " " + config);
  EXPECT_EQ(rerun.exit_code, 1) << rerun.output;
  EXPECT_NE(rerun.output.find("0 done, 1 failed, 8 skipped"), std::string::npos) << rerun.output;
  EXPECT_EQ(read_summary_with_h5py(dir + "/results.h5").size(), 10u);
}

TEST(SweepRunner, ResumeSkipsExactlyTheFinishedJobs) {
  const std::string dir = temp_dir("runner");
  const std::string config = write_config(dir, 2, 0.02);
  const CommandResult part = run_command(kSweep + " " + config + " --filter flops_reduction=0.5");
  ASSERT_EQ(part.exit_code, 0) << part.output;
  const auto first_rows = read_summary_with_h5py(dir + "/results.h5");
  ASSERT_EQ(first_rows.size(), 2u);

  const CommandResult dry = run_command(kSweep + " " + config + " --dry-run");
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_EQ(listed_ids(dry.output).size(), 8u) << dry.output;
  const std::set<std::string> skipped = listed_ids(dry.output, " skip ");
  EXPECT_EQ(skipped, (std::set<std::string>{first_rows[0].job_id, first_rows[1].job_id}))
      << dry.output;
  EXPECT_NE(dry.output.find("8 job(s): 6 to run, 2 already done"), std::string::npos) << dry.output;

  const CommandResult rest = run_command(kSweep + " " + config);
  ASSERT_EQ(rest.exit_code, 0) << rest.output;
  const auto rows = read_summary_with_h5py(dir + "/results.h5");
  EXPECT_EQ(rows.size(), 8u);
  EXPECT_EQ(done_counts(rows).size(), 8u);
}

TEST(SweepRunner, AChangedGridIsReported) {
  const std::string dir = temp_dir("runner");
  const std::string config = write_config(dir, 1, 0.01);
  ASSERT_EQ(run_command(kSweep + " " + config).exit_code, 0);
  const CommandResult changed =
      run_command(kSweep + " " + config + " grids.main.flops_reduction=[0.4] --dry-run");
  EXPECT_NE(changed.output.find("config differs"), std::string::npos) << changed.output;
  EXPECT_NE(changed.output.find("+ # grids.main.flops_reduction=[0.4]"), std::string::npos)
      << changed.output;
  EXPECT_NE(changed.output.find("3 job(s) in " + dir + "/results.h5 are not in this grid"),
            std::string::npos)
      << changed.output;
}

TEST(SweepRunner, BadConfigNamesFileAndLine) {
  const std::string dir = temp_dir("runner");
  const std::string config = write_config(dir, 1, 0.01, "duration = 3\n");
  const CommandResult run = run_command(kSweep + " " + config);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find(config + ":13"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("did you mean 'duration_s'"), std::string::npos) << run.output;
}

TEST(SweepRunner, AFailedRecipeFailsTheJobsThatNeedItsCheckpoint) {
  const std::string dir = temp_dir("runner");
  const std::string config = write_config(dir, 1, 0.01, R"(model = "toy"

[models.toy]
recipe = { kind = "standin", fail = true, duration_s = 0.01 }
)");
  const CommandResult run = run_command(kSweep + " " + config);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  const auto rows = read_summary_with_h5py(dir + "/results.h5");
  ASSERT_EQ(rows.size(), 5u) << run.output;
  for (size_t i = 1; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].status, "failed");
    EXPECT_EQ(rows[i].error, "dependency failed: job " + rows[0].job_id);
  }
}

// Starts `kprune-sweep config` in a child process (in `cwd` when given), its output in `log`.
pid_t start_sweep(const std::string& config, const std::string& log, const std::string& cwd = "") {
  const pid_t child = fork();
  if (child < 0) throw std::runtime_error("fork failed");
  if (child == 0) {
    if (freopen(log.c_str(), "w", stdout) == nullptr || dup2(fileno(stdout), fileno(stderr)) < 0 ||
        (!cwd.empty() && chdir(cwd.c_str()) != 0)) {
      _exit(126);
    }
    execl(kSweep.c_str(), kSweep.c_str(), config.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return child;
}

// Waits (at most 15 s) until `started` jobs have begun: their log files exist in `logs`.
void wait_for_jobs_started(const std::string& logs, int started) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline &&
         (!std::filesystem::exists(logs) ||
          std::distance(std::filesystem::directory_iterator(logs), {}) < started)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int wait_status(pid_t child) {
  int status = 0;
  waitpid(child, &status, 0);
  return status;
}

// Starts the sweep, sends `signal_number` once `started` jobs have begun and returns the wait
// status.
int interrupt_sweep(const std::string& dir, const std::string& config, int signal_number,
                    int started) {
  const pid_t child = start_sweep(config, dir + "/first.log");
  wait_for_jobs_started(dir + "/results.logs", started);
  kill(child, signal_number);
  return wait_status(child);
}

TEST(SweepRunner, SigtermStopsCleanlyAndARerunCompletesEveryJobOnce) {
  const std::string dir = temp_dir("runner");
  const std::string config = write_config(dir, 4, 0.15);  // 16 jobs, ~2.4 s
  const int status = interrupt_sweep(dir, config, SIGTERM, 3);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 3);  // interrupted

  const auto first = done_counts(read_summary_with_h5py(dir + "/results.h5"));
  EXPECT_GE(first.size(), 3u);  // the third job was in flight and is recorded too
  EXPECT_LT(first.size(), 16u);
  const CommandResult rerun = run_command(kSweep + " " + config);
  EXPECT_EQ(rerun.exit_code, 0) << rerun.output;
  const auto rows = read_summary_with_h5py(dir + "/results.h5");
  EXPECT_EQ(rows.size(), 16u);
  EXPECT_EQ(done_counts(rows).size(), 16u);
}

TEST(SweepRunner, SigkillOfTheSweepKeepsTheFileAndARerunCompletesIt) {
  const std::string dir = temp_dir("runner");
  const std::string config = write_config(dir, 4, 0.15);
  const int status = interrupt_sweep(dir, config, SIGKILL, 4);
  ASSERT_TRUE(WIFSIGNALED(status));
  const auto first = done_counts(read_summary_with_h5py(dir + "/results.h5"));
  EXPECT_GE(first.size(), 2u);
  EXPECT_LT(first.size(), 16u);
  const CommandResult rerun = run_command(kSweep + " " + config);
  EXPECT_EQ(rerun.exit_code, 0) << rerun.output;
  EXPECT_NE(rerun.output.find(fmt::format("{} of 16 jobs already done", first.size())),
            std::string::npos)
      << rerun.output;
  const auto rows = read_summary_with_h5py(dir + "/results.h5");
  EXPECT_EQ(rows.size(), 16u);
  EXPECT_EQ(done_counts(rows).size(), 16u);
}

TEST(SweepRunner, MpiWorkersShareTheJobs) {
  const std::string dir = temp_dir("runner");
  const std::string config = write_config(dir, 2, 0.05);
  const CommandResult run = run_command(kMpirun + kSweep + " " + config);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto rows = read_summary_with_h5py(dir + "/results.h5");
  EXPECT_EQ(done_counts(rows).size(), 8u);
  std::set<int64_t> ranks;
  for (const SummaryRow& row : rows) ranks.insert(row.rank);
  EXPECT_EQ(ranks, (std::set<int64_t>{1, 2}));  // rank 0 only coordinates
}

TEST(SweepRunner, AKilledWorkerLosesOnlyItsJobsInFlight) {
  const std::string dir = temp_dir("runner");
  // grids.a_crash sorts first: one worker crashes at once while the other runs main jobs
  // until mpirun notices and ends the whole job.
  const std::string config = write_config(dir, 3, 0.2, R"(
[grids.a_crash]
kind = "standin"
tag = "crash"
crash = true
)");
  const CommandResult crashed = run_command(kMpirun + kSweep + " " + config);
  EXPECT_NE(crashed.exit_code, 0) << crashed.output;
  const auto after_crash = done_counts(read_summary_with_h5py(dir + "/results.h5"));
  // Every job leaves a log file when it starts: the started jobs missing from the file are
  // the ones in flight when the job died, at most one per worker (the crash among them).
  const auto started = static_cast<size_t>(
      std::distance(std::filesystem::directory_iterator(dir + "/results.logs"), {}));
  EXPECT_LE(started - after_crash.size(), 2u) << crashed.output;
  EXPECT_GE(started - after_crash.size(), 1u);  // the crashed job is not recorded

  const CommandResult rerun = run_command(kMpirun + kSweep + " " + config + " --filter tag=main");
  ASSERT_EQ(rerun.exit_code, 0) << rerun.output;
  const auto rows = read_summary_with_h5py(dir + "/results.h5");
  EXPECT_EQ(done_counts(rows).size(), 12u);
  for (const SummaryRow& row : rows) EXPECT_EQ(row.status, "done");
}

// Misuse while a sweep runs (issue 19): each is refused or reported, and no result is lost.
TEST(SweepRunner, ASecondSweepOnTheSameFileIsRefusedWhileTheFirstRuns) {
  const std::string dir = temp_dir("runner");
  const std::string config = write_config(dir, 4, 0.15);  // 16 jobs, ~2.4 s
  const pid_t first = start_sweep(config, dir + "/first.log");
  wait_for_jobs_started(dir + "/results.logs", 2);
  const CommandResult second = run_command(kSweep + " " + config);
  EXPECT_EQ(second.exit_code, 2) << second.output;
  EXPECT_NE(second.output.find(dir + "/results.h5: the results file is open in another running "
                                     "kprune-sweep"),
            std::string::npos)
      << second.output;
  const int status = wait_status(first);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read_file(dir + "/first.log");
  EXPECT_EQ(done_counts(read_summary_with_h5py(dir + "/results.h5")).size(), 16u);
}

// The results file a sweep's output names ("results in <path>").
std::string results_path_in(const std::string& text) {
  const size_t at = text.rfind("results in ");
  if (at == std::string::npos) return "";
  const size_t start = at + std::string("results in ").size();
  return text.substr(start, text.find('\n', start) - start);
}

// Starts the 16-job sweep in `dir` (its working directory), writing its results into `folder`.
pid_t start_sweep_writing_into(const std::string& dir, const std::string& folder) {
  std::string config_text = read_file(write_config(dir, 4, 0.15));
  config_text.replace(config_text.find(dir + "/results.h5"), (dir + "/results.h5").size(),
                      folder + "/results.h5");
  std::ofstream(dir + "/sweep.toml") << config_text;
  return start_sweep(dir + "/sweep.toml", dir + "/first.log", dir);
}

TEST(SweepRunner, AnOutputFolderRemovedMidRunIsRescuedWithEveryResult) {
  const std::string dir = temp_dir("runner");
  const std::string out = dir + "/out";
  std::filesystem::create_directories(out);
  const pid_t sweep = start_sweep_writing_into(dir, out);
  wait_for_jobs_started(out + "/results.logs", 4);
  std::filesystem::remove_all(out);
  const int status = wait_status(sweep);
  const std::string log = read_file(dir + "/first.log");
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << log;
  EXPECT_NE(log.find("cannot go on writing the results file " + out +
                     "/results.h5: it was removed (or its folder was)"),
            std::string::npos)
      << log;
  // The folder is gone: the copy lands in the working directory.
  const std::string rescued = results_path_in(log);
  EXPECT_EQ(std::filesystem::path(rescued).parent_path(), std::filesystem::path(dir)) << log;
  EXPECT_EQ(done_counts(read_summary_with_h5py(rescued)).size(), 16u) << log;
}

TEST(SweepRunner, AFullFileSystemMidRunIsRescuedWithEveryResult) {
  const std::string dir = temp_dir("runner");
  const std::string mount = dir + "/small";
  std::filesystem::create_directories(mount);
  // Needs root (as CI is): a tmpfs that passes the sweep's free-space check, then fills up.
  if (run_command("mount -t tmpfs -o size=100m tmpfs " + mount).exit_code != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here (not root?)";
  const pid_t sweep = start_sweep_writing_into(dir, mount);
  wait_for_jobs_started(mount + "/results.logs", 4);
  run_command("dd if=/dev/zero of=" + mount + "/filler bs=1M");  // ends with "No space left"
  const int status = wait_status(sweep);
  const std::string log = read_file(dir + "/first.log");
  const auto stored_before_full = read_summary_with_h5py(mount + "/results.h5");
  run_command("umount " + mount);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << log;
  EXPECT_NE(log.find("cannot go on writing the results file " + mount + "/results.h5"),
            std::string::npos)
      << log;
  // The full folder is not writable: the copy lands in the working directory.
  const std::string rescued = results_path_in(log);
  EXPECT_EQ(std::filesystem::path(rescued).parent_path(), std::filesystem::path(dir)) << log;
  const auto rows = read_summary_with_h5py(rescued);
  EXPECT_EQ(done_counts(rows).size(), 16u) << log;
  // The full file still opens, with a prefix of the rescued rows.
  ASSERT_LE(stored_before_full.size(), rows.size());
  for (size_t i = 0; i < stored_before_full.size(); ++i)
    EXPECT_EQ(stored_before_full[i].job_id, rows[i].job_id);
}

}  // namespace
}  // namespace kprune::testing
