// kprune-sweep: runs the jobs a TOML sweep file declares, across MPI ranks when started by
// mpirun/srun, writing every result to one HDF5 file (framework/sweep/README.md).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <optional>

#include "experiments/jobs/jobs.h"
#include "framework/sweep/config.h"
#include "framework/sweep/environment.h"
#include "framework/sweep/expand.h"
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
  std::vector<std::string> only;
  std::vector<std::string> filters;
  bool fail_fast = false;
  std::optional<int> retries;
};

void print_dry_run(const std::vector<JobSpec>& jobs, const SweepConfig& config) {
  ResumePlan plan;
  if (std::filesystem::exists(config.sweep.output)) {
    const ResultStore store(config.sweep.output);
    plan = plan_resume(jobs, store.stored_jobs(), store.previous_config_text(), config.text);
  } else {
    plan = plan_resume(jobs, {}, "", config.text);
  }
  std::set<std::string> skipped;
  for (const JobSpec& job : plan.skipped) skipped.insert(job.id);
  for (const JobSpec& job : jobs) {
    std::string line =
        fmt::format("{}  {:<9} {}  {}", job.id, job.kind,
                    skipped.count(job.id) != 0 ? "skip" : "run ", job.params.canonical());
    if (!job.depends_on.empty())
      line += fmt::format("  (after {})", fmt::join(job.depends_on, ", "));
    std::cout << line << "\n";
  }
  std::cout << fmt::format("{} job(s): {} to run, {} already done in {} (skipped on resume)\n",
                           jobs.size(), plan.to_run.size(), plan.skipped.size(),
                           config.sweep.output);
  std::cerr << describe(plan, config.sweep.output);
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
               "print the expanded jobs, which resume would skip, and the count");
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
    check_slurm_tasks(mpi.size());
    const SweepConfig config = load_config(args.config, args.overrides);
    const std::vector<JobSpec> jobs =
        select_jobs(expand_jobs(config, job_registry()), args.only, args.filters);
    if (args.dry_run) {
      print_dry_run(jobs, config);
      release_workers(mpi);
      return 0;
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
    running = true;
    const RunReport report = run_coordinator(mpi, jobs, options, job_registry());
    std::cout << summary_table(report.records);
    std::cout << fmt::format(
        "{}: {} done, {} failed, {} skipped (done before), {} not run{}; results in {}\n",
        config.sweep.name, report.done, report.failed, report.skipped,
        report.total - report.skipped - report.done - report.failed,
        report.interrupted ? " (interrupted: rerun the same command to resume)" : "",
        options.output);
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
