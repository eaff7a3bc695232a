#include "framework/sweep/preflight.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <tuple>

#include "framework/sweep/environment.h"
#include "framework/util/error.h"

namespace kprune::sweep {
namespace {

namespace fs = std::filesystem;

// Results rows, masks, learning curves and logs: generous for one job (recipe checkpoints come
// on top and depend on the model).
constexpr double kMiBPerJob = 1.0;
constexpr double kMiBMargin = 64.0;
constexpr const char* kRunCategory = "output, ranks and devices";

InputProblem run_problem(const std::string& key, const std::string& path, const std::string& what) {
  return {kRunCategory, key, path, what, ""};
}

std::string normal(const std::string& path) { return fs::path(path).lexically_normal().string(); }

// `path` itself when it exists, else its nearest existing parent ("." for a relative path).
fs::path existing_ancestor(const fs::path& path) {
  fs::path at = path.empty() ? fs::path(".") : path;
  std::error_code error;
  while (!fs::exists(at, error)) {
    if (!at.has_parent_path() || at.parent_path() == at) return fs::path(".");
    at = at.parent_path();
  }
  return at;
}

// A file the run writes (`is_folder` false) or a folder it fills: it, or the folder it will be
// created in, must take writes.
void check_writable(const std::string& path, bool is_folder, const std::string& key,
                    std::vector<InputProblem>& problems) {
  const fs::path target(path);
  std::error_code error;
  if (fs::exists(target, error)) {
    if (is_folder != fs::is_directory(target, error)) {
      problems.push_back(run_problem(
          key, path, is_folder ? "exists and is not a folder" : "is a folder, not a file"));
    } else if (access(path.c_str(), W_OK) != 0) {
      problems.push_back(run_problem(key, path, "not writable"));
    }
    return;
  }
  const fs::path parent = existing_ancestor(target.parent_path());
  if (!fs::is_directory(parent, error)) {
    problems.push_back(
        run_problem(key, path, fmt::format("'{}' is not a folder", parent.string())));
  } else if (access(parent.c_str(), W_OK | X_OK) != 0) {
    problems.push_back(run_problem(
        key, path, fmt::format("cannot be created: '{}' is not writable", parent.string())));
  }
}

void check_space(const std::string& output, size_t jobs, std::vector<InputProblem>& problems) {
  std::error_code error;
  const fs::space_info space = fs::space(existing_ancestor(fs::path(output).parent_path()), error);
  if (error) return;
  const double needed = kMiBMargin + kMiBPerJob * static_cast<double>(jobs);
  const double available = static_cast<double>(space.available) / (1024.0 * 1024.0);
  if (available < needed) {
    problems.push_back(
        run_problem("sweep.output", output,
                    fmt::format("{:.0f} MiB free; the results and logs of {} job(s) need "
                                "about {:.0f} MiB",
                                available, jobs, needed)));
  }
}

void check_ranks_and_devices(const SweepConfig& config, const PreflightOptions& options,
                             std::vector<InputProblem>& problems) {
  if (!options.check_ranks_and_devices) return;
  try {
    check_slurm_tasks(options.world_size);
  } catch (const std::exception& error) {
    problems.push_back(run_problem("ranks", "", error.what()));
  }
  const std::string& device = config.sweep.device;
  if (device.rfind("cuda", 0) != 0) return;
  const int gpus = visible_gpu_count();
  if (gpus == 0) {
    problems.push_back(run_problem("sweep.device", "",
                                   fmt::format("device '{}' asked, but no GPU is visible here "
                                               "(CUDA_VISIBLE_DEVICES, /dev/nvidia*)",
                                               device)));
  } else if (device.size() > 5 && device[4] == ':') {
    const int index = std::atoi(device.c_str() + 5);
    if (index >= gpus) {
      problems.push_back(run_problem(
          "sweep.device", "",
          fmt::format("device '{}' asked, but {} GPU(s) are visible here", device, gpus)));
    }
  }
}

bool axis_gives(const Axis& axis, const std::string& key, const std::string& value) {
  return axis.key == key &&
         std::find(axis.values.begin(), axis.values.end(), value) != axis.values.end();
}

std::string describe(const InputProblem& problem) {
  return problem.path.empty() ? problem.what : fmt::format("{}: {}", problem.path, problem.what);
}

}  // namespace

void InputCheckContext::add_produced(const std::string& path) { produced_.insert(normal(path)); }

bool InputCheckContext::produced(const std::string& path) const {
  return produced_.count(normal(path)) != 0;
}

std::string config_location(const SweepConfig& config, const JobSpec& job, const std::string& key) {
  if (key.rfind("data.", 0) == 0) {
    const std::string name = key.substr(5);
    auto it = config.data_where.find(name);
    return it != config.data_where.end()
               ? it->second
               : fmt::format("{}: no [data] entry '{}' (the default folder)", config.path, name);
  }
  if (key.rfind("sweep.", 0) == 0) {
    auto it = config.sweep.where.find(key.substr(6));
    return it != config.sweep.where.end() ? it->second
                                          : fmt::format("{}: [sweep] default", config.path);
  }
  const std::string value = job.params.get_string(key, "");
  const std::string model_name = job.params.get_string("model", "");
  auto model = config.models.find(model_name);
  if (key == "checkpoint" && model != config.models.end()) {
    const ModelSpec& spec = model->second;
    for (const std::string& task : {job.params.get_string("task", ""), std::string("*")}) {
      auto it = spec.checkpoint_where.find(task);
      if (it != spec.checkpoint_where.end()) return it->second;
    }
    return spec.where;
  }
  for (const GridSpec& grid : config.grids) {
    if (grid.kind != job.kind) continue;
    for (const Axis& axis : grid.axes)
      if (axis_gives(axis, key, value)) return axis.where;
    for (const auto& group : grid.zips)
      for (const Axis& axis : group)
        if (axis_gives(axis, key, value)) return axis.where;
    for (const auto& group : grid.includes)
      for (const Axis& axis : group)
        if (axis_gives(axis, key, value)) return axis.where;
  }
  for (const auto& [name, spec] : config.models)
    for (const Axis& axis : spec.recipe)
      if (axis_gives(axis, key, value)) return axis.where;
  if (key.rfind("pruner.", 0) == 0) {
    auto pruner = config.pruners.find(job.params.get_string("pruner", ""));
    if (pruner != config.pruners.end())
      for (const Axis& axis : pruner->second)
        if (axis_gives(axis, key.substr(7), value)) return axis.where;
  }
  return config.path;
}

PreflightReport preflight(const SweepConfig& config, const std::vector<JobSpec>& all_jobs,
                          const std::vector<JobSpec>& to_run, const JobRegistry& registry,
                          const PreflightOptions& options) {
  InputCheckContext context;
  context.data_dirs = config.data;
  context.artifacts_dir = config.sweep.artifacts;
  for (const JobSpec& job : all_jobs)
    context.add_produced((fs::path(config.sweep.artifacts) / job.id).string());

  PreflightReport report;
  report.jobs_checked = to_run.size();
  std::map<std::tuple<std::string, std::string, std::string, std::string>, size_t> index;
  auto add = [&](const InputProblem& problem, const std::string& where, const JobSpec* job) {
    const auto key = std::make_tuple(problem.category, problem.key, problem.path, problem.what);
    auto it = index.find(key);
    if (it == index.end()) {
      it = index.emplace(key, report.problems.size()).first;
      report.problems.push_back({problem, where, {}});
    }
    if (job != nullptr) report.problems[it->second].job_ids.push_back(job->id);
  };

  std::vector<InputProblem> run_problems;
  if (!to_run.empty()) {
    check_writable(config.sweep.output, false, "sweep.output", run_problems);
    check_writable(config.sweep.artifacts, true, "sweep.artifacts", run_problems);
    check_space(config.sweep.output, to_run.size(), run_problems);
  }
  check_ranks_and_devices(config, options, run_problems);
  for (const InputProblem& problem : run_problems) {
    const std::string where = problem.key.rfind("sweep.", 0) == 0
                                  ? config_location(config, JobSpec{}, problem.key)
                                  : std::string("the command line (mpirun/srun)");
    add(problem, where, nullptr);
  }

  for (const JobSpec& job : to_run) {
    const JobKind& kind = registry.get(job.kind);
    if (!kind.check_inputs) continue;
    std::vector<InputProblem> problems;
    try {
      problems = kind.check_inputs(job, context);
    } catch (const std::exception& error) {
      problems.push_back({"parameters", "", "", error.what(), ""});
    }
    for (const InputProblem& problem : problems) {
      add(problem, config_location(config, job, problem.key), &job);
      report.blocked.emplace(job.id, describe(problem));
    }
  }
  for (const JobSpec& job : to_run) {  // prerequisites come first in the expansion
    if (report.blocked.count(job.id) != 0) continue;
    for (const std::string& dependency : job.depends_on) {
      if (report.blocked.count(dependency) == 0) continue;
      report.blocked.emplace(job.id, fmt::format("waits for job {}, which cannot run", dependency));
      break;
    }
  }
  return report;
}

std::string format_preflight(const PreflightReport& report, const SweepConfig& config) {
  if (report.ok()) {
    return fmt::format(
        "{}: the inputs of {} job(s), the output folder, ranks and devices "
        "are in order\n",
        config.path, report.jobs_checked);
  }
  std::string out = fmt::format("{}: {} problem(s); {} of {} job(s) cannot run:\n", config.path,
                                report.problems.size(), report.blocked.size(), report.jobs_checked);
  std::vector<std::string> categories;
  for (const PreflightProblem& problem : report.problems) {
    if (std::find(categories.begin(), categories.end(), problem.input.category) == categories.end())
      categories.push_back(problem.input.category);
  }
  std::set<std::string> hints;
  for (const std::string& category : categories) {
    out += fmt::format("{}:\n", category);
    for (const PreflightProblem& problem : report.problems) {
      if (problem.input.category != category) continue;
      out += fmt::format("  - {}\n", describe(problem.input));
      std::string asked = problem.where;
      if (!problem.input.key.empty()) asked += fmt::format(" ({})", problem.input.key);
      if (!problem.job_ids.empty()) {
        asked += fmt::format(", {} job(s): {}{}", problem.job_ids.size(), problem.job_ids.front(),
                             problem.job_ids.size() > 1 ? ", ..." : "");
      }
      out += fmt::format("      asked by {}\n", asked);
      if (!problem.input.hint.empty()) hints.insert(problem.input.hint);
    }
  }
  for (const std::string& hint : hints) out += hint + "\n";
  return out;
}

}  // namespace kprune::sweep
