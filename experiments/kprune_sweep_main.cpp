// kprune-sweep: runs the jobs a TOML sweep file declares, across MPI ranks when started by
// mpirun/srun, writing every result to one HDF5 file (framework/sweep/README.md).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <optional>

#include "experiments/jobs/jobs.h"
#include "framework/sweep/config.h"
#include "framework/sweep/environment.h"
#include "framework/sweep/expand.h"
#include "framework/sweep/preflight.h"
#include "framework/sweep/resume.h"
#include "framework/sweep/runner.h"
#include "framework/util/error.h"
#include "framework/util/version.h"

namespace {

using namespace kprune::sweep;

struct Arguments {
  std::string config;
  std::vector<std::string> overrides;
  bool dry_run = false;
  bool check = false;
  bool skip_missing = false;
  std::vector<std::string> only;
  std::vector<std::string> filters;
  bool fail_fast = false;
  std::optional<int> retries;
};

// What a run would do: the jobs not done in the results file yet.
ResumePlan resume_plan(const std::vector<JobSpec>& jobs, const SweepConfig& config) {
  if (!std::filesystem::exists(config.sweep.output)) return plan_resume(jobs, {}, "", config.text);
  const ResultStore store(config.sweep.output);
  return plan_resume(jobs, store.stored_jobs(), store.previous_config_text(), config.text);
}

void print_dry_run(const std::vector<JobSpec>& jobs, const SweepConfig& config, int world_size) {
  const ResumePlan plan = resume_plan(jobs, config);
  const PreflightReport check =
      preflight(config, jobs, plan.to_run, job_registry(), {world_size, false});
  std::set<std::string> skipped;
  for (const JobSpec& job : plan.skipped) skipped.insert(job.id);
  for (const JobSpec& job : jobs) {
    std::string line =
        fmt::format("{}  {:<9} {}  {}", job.id, job.kind,
                    skipped.count(job.id) != 0 ? "skip" : "run ", job.params.canonical());
    if (!job.depends_on.empty())
      line += fmt::format("  (after {})", fmt::join(job.depends_on, ", "));
    auto blocked = check.blocked.find(job.id);
    if (blocked != check.blocked.end()) line += "  MISSING: " + blocked->second;
    std::cout << line << "\n";
  }
  std::cout << fmt::format("{} job(s): {} to run, {} already done in {} (skipped on resume)",
                           jobs.size(), plan.to_run.size(), plan.skipped.size(),
                           config.sweep.output);
  if (!check.blocked.empty())
    std::cout << fmt::format(", {} cannot run (inputs missing)", check.blocked.size());
  std::cout << "\n";
  std::cerr << describe(plan, config.sweep.output);
  if (!check.ok()) std::cerr << format_preflight(check, config);
}

int run_rank0(const MpiSession& mpi, int argc, char** argv) {
  CLI::App app{
      "kprune-sweep: run a TOML grid of kprune jobs (over MPI ranks when started by mpirun/srun)"};
  Arguments args;
  app.add_option("config", args.config, "the sweep file (TOML)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("overrides", args.overrides,
                 "key=value overrides of config values, e.g. sweep.device=cpu");
  app.add_flag("--dry-run", args.dry_run,
               "print the expanded jobs, which resume would skip, which cannot run, and the "
               "counts");
  app.add_flag("--check", args.check,
               "check every input, the output folder and the ranks, list every problem, and "
               "exit (0: ready to run; 2: problems); for a login node before sbatch");
  app.add_flag("--skip-missing", args.skip_missing,
               "run the jobs whose inputs are present; record the others as skipped");
  app.add_option("--only", args.only, "run only this job id (repeatable), plus what it depends on")
      ->allow_extra_args(false);
  app.add_option("--filter", args.filters,
                 "run only jobs with this key=value (repeatable; all must match)")
      ->allow_extra_args(false);
  app.add_flag("--fail-fast", args.fail_fast, "stop handing out jobs after the first failure");
  app.add_option("--retries", args.retries,
                 "attempts after a failure before a job counts as failed");
  app.set_version_flag("--version", kprune::code_version());
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    release_workers(mpi);
    return app.exit(error);
  }

  bool running = false;
  try {
    const SweepConfig config = load_config(args.config, args.overrides);
    const std::vector<JobSpec> jobs =
        select_jobs(expand_jobs(config, job_registry()), args.only, args.filters);
    if (args.dry_run) {
      print_dry_run(jobs, config, mpi.size());
      release_workers(mpi);
      return 0;
    }
    // On a login node (--check) the ranks and GPUs are not the compute nodes': not checked.
    const PreflightReport check = preflight(config, jobs, resume_plan(jobs, config).to_run,
                                            job_registry(), {mpi.size(), !args.check});
    if (args.check || !check.ok()) std::cerr << format_preflight(check, config);
    if (args.check) {
      release_workers(mpi);
      return check.ok() ? 0 : 2;
    }
    // The output folder, the ranks and the devices concern every job: nothing to skip.
    const bool whole_sweep =
        std::any_of(check.problems.begin(), check.problems.end(),
                    [](const PreflightProblem& problem) { return problem.job_ids.empty(); });
    if (whole_sweep || (!check.ok() && !args.skip_missing)) {
      std::cerr << "kprune-sweep: no job was started: fix the problems above"
                << (whole_sweep ? ""
                                : ", or run the jobs whose inputs are present with "
                                  "--skip-missing")
                << "\n";
      release_workers(mpi);
      return 2;
    }
    RunOptions options;
    options.output = config.sweep.output;
    options.config_path = args.config;
    options.config_text = config.text;
    options.device = config.sweep.device;
    options.data_dirs = config.data;
    options.artifacts_dir = config.sweep.artifacts;
    options.retries = args.retries.value_or(config.sweep.retries);
    options.fail_fast = args.fail_fast;
    options.blocked = check.blocked;
    running = true;
    const RunReport report = run_coordinator(mpi, jobs, options, job_registry());
    std::cout << summary_table(report.records);
    std::cout << fmt::format(
        "{}: {} done, {} failed, {} skipped (done before), {}{} not run{}; results in {}\n",
        config.sweep.name, report.done, report.failed, report.skipped,
        report.blocked > 0 ? fmt::format("{} skipped (inputs missing), ", report.blocked) : "",
        report.total - report.skipped - report.blocked - report.done - report.failed,
        report.interrupted ? " (interrupted: rerun the same command to resume)" : "",
        report.output);
    return report.exit_code();
  } catch (const std::exception& error) {
    std::cerr << "kprune-sweep: error: " << error.what() << "\n";
    if (running) abort_sweep(2);  // workers may be mid-job
    release_workers(mpi);
    return 2;
  }
}

}  // namespace

int main(int argc, char** argv) {
  MpiSession mpi(&argc, &argv);
  kprune::jobs::register_builtin_jobs(job_registry());
  if (mpi.rank() != 0) {
    run_worker(mpi, job_registry());
    return 0;
  }
  return run_rank0(mpi, argc, argv);
}
