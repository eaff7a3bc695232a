#include "framework/sweep/expand.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "framework/sweep/suggest.h"
#include "framework/util/error.h"

namespace kprune::sweep {
namespace {

// Each row times each value of the axis.
std::vector<Params> product(const std::vector<Params>& rows, const Axis& axis) {
  std::vector<Params> out;
  for (const Params& row : rows) {
    for (const std::string& value : axis.values) {
      Params next = row;
      next.set(axis.key, value);
      out.push_back(std::move(next));
    }
  }
  return out;
}

// Each row times the zipped group's i-th values, for every i.
std::vector<Params> zip_product(const std::vector<Params>& rows, const std::vector<Axis>& group) {
  std::vector<Params> out;
  for (const Params& row : rows) {
    for (size_t i = 0; i < group.front().values.size(); ++i) {
      Params next = row;
      for (const Axis& axis : group) next.set(axis.key, axis.values[i]);
      out.push_back(std::move(next));
    }
  }
  return out;
}

bool matches(const Params& row, const std::vector<Axis>& rule) {
  for (const Axis& axis : rule) {
    if (!row.has(axis.key)) return false;
    const std::string value = row.get_string(axis.key, "");
    if (std::find(axis.values.begin(), axis.values.end(), value) == axis.values.end()) return false;
  }
  return true;
}

class Expander {
 public:
  Expander(const SweepConfig& config, const JobRegistry& registry)
      : config_(config), registry_(registry) {}

  std::vector<JobSpec> run();

 private:
  void check_axis(const JobKind& kind, const Axis& axis, const std::string& grid) const;
  // Adds the sweep's seeds and sample size, and the pruner's parameter grid.
  std::vector<Params> complete(const JobKind& kind, const Params& row,
                               const std::string& where) const;
  JobSpec finish(const JobKind& kind, Params row, const std::string& where);
  // The checkpoint of model `name` for `task`: one of its directories, or the output of its
  // recipe job (added once, after the jobs it depends on), whose id goes to depends_on.
  std::string model_checkpoint(const std::string& name, const std::string& task,
                               const std::string& where, std::vector<std::string>& depends_on);
  // `init_model = <model>` becomes init_checkpoint = that model's checkpoint (and a dependency),
  // so that a recipe can start from another recipe's output (pretrain, then finetune).
  Params resolve_init_model(const JobKind& kind, const Params& row, const std::string& where,
                            std::vector<std::string>& depends_on);
  JobSpec make_spec(const JobKind& kind, Params row) const;

  const SweepConfig& config_;
  const JobRegistry& registry_;
  std::vector<JobSpec> recipe_jobs_;
  std::set<std::string> recipe_ids_;
  std::vector<std::string> resolving_;  // models whose checkpoint is being resolved (cycles)
};

void Expander::check_axis(const JobKind& kind, const Axis& axis, const std::string& grid) const {
  if (kind.accepts(axis.key)) return;
  if (axis.key == "init_model" && kind.accepts("init_checkpoint")) return;
  fail("{}: job kind '{}' (grids.{}) has no parameter '{}'{} (accepted: {})", axis.where, kind.name,
       grid, axis.key, did_you_mean(axis.key, kind.params), fmt::join(kind.params, ", "));
}

std::vector<Params> Expander::complete(const JobKind& kind, const Params& row,
                                       const std::string& where) const {
  std::vector<Params> rows{row};
  if (kind.accepts("seed") && !row.has("seed") && !config_.sweep.seeds.empty()) {
    rows = product(rows, Axis{"seed", config_.sweep.seeds, where});
  }
  if (kind.accepts("sample_size") && !row.has("sample_size") &&
      !config_.sweep.sample_size.empty()) {
    for (Params& next : rows) next.set("sample_size", config_.sweep.sample_size);
  }
  auto pruner = config_.pruners.find(row.get_string("pruner", ""));
  if (pruner != config_.pruners.end()) {
    for (const Axis& axis : pruner->second) {
      Axis prefixed{"pruner." + axis.key, axis.values, axis.where};
      if (!kind.accepts(prefixed.key)) {
        fail("{}: job kind '{}' does not take pruner parameters ('{}')", axis.where, kind.name,
             prefixed.key);
      }
      // A parameter given in the grid itself wins over the pruner table.
      if (!row.has(prefixed.key)) rows = product(rows, prefixed);
    }
  }
  return rows;
}

JobSpec Expander::make_spec(const JobKind& kind, Params row) const {
  row.set("kind", kind.name);
  JobSpec spec;
  spec.kind = kind.name;
  spec.id = job_id(row);
  for (const std::string& key : kind.cache_params) {
    if (!row.has(key)) continue;
    if (!spec.cache_key.empty()) spec.cache_key += ' ';
    spec.cache_key += key + '=' + row.get_string(key, "");
  }
  spec.params = std::move(row);
  return spec;
}

std::string Expander::model_checkpoint(const std::string& name, const std::string& task,
                                       const std::string& where,
                                       std::vector<std::string>& depends_on) {
  auto model_it = config_.models.find(name);
  if (model_it == config_.models.end()) {
    std::vector<std::string> names;
    for (const auto& [model_name, model] : config_.models) names.push_back(model_name);
    fail("{}: model '{}' is not declared ([models.{}]){}", where, name, name,
         did_you_mean(name, names));
  }
  const ModelSpec& model = model_it->second;
  if (!model.checkpoints.empty()) {
    auto checkpoint = model.checkpoints.find(task);
    if (checkpoint == model.checkpoints.end()) checkpoint = model.checkpoints.find("*");
    if (checkpoint == model.checkpoints.end()) {
      fail("{}: model '{}' has no checkpoint for task '{}' (add checkpoints.{} = \"dir\")",
           model.where, name, task, task);
    }
    return checkpoint->second;
  }
  if (std::find(resolving_.begin(), resolving_.end(), name) != resolving_.end()) {
    fail("{}: model '{}' starts from itself (init_model: {} -> {})", model.where, name,
         fmt::join(resolving_, " -> "), name);
  }
  const JobKind& recipe_kind = registry_.get(model.recipe_kind);
  Params recipe;
  for (const Axis& axis : model.recipe) {
    check_axis(recipe_kind, axis, "models." + name + ".recipe");
    recipe.set(axis.key, axis.values.front());
  }
  recipe.set("model", name);
  // A task-independent recipe (pretraining) runs once for all tasks.
  if (!task.empty() && recipe_kind.accepts("task")) recipe.set("task", task);
  resolving_.push_back(name);
  std::vector<std::string> recipe_depends_on;
  recipe = resolve_init_model(recipe_kind, recipe, model.where, recipe_depends_on);
  resolving_.pop_back();
  JobSpec recipe_job = make_spec(recipe_kind, recipe);
  recipe_job.depends_on = std::move(recipe_depends_on);
  const std::string checkpoint =
      (std::filesystem::path(config_.sweep.artifacts) / recipe_job.id).string();
  depends_on.push_back(recipe_job.id);
  if (recipe_ids_.insert(recipe_job.id).second) recipe_jobs_.push_back(std::move(recipe_job));
  return checkpoint;
}

Params Expander::resolve_init_model(const JobKind& kind, const Params& row,
                                    const std::string& where,
                                    std::vector<std::string>& depends_on) {
  if (!row.has("init_model")) return row;
  if (!kind.accepts("init_checkpoint")) {
    fail("{}: job kind '{}' takes no init_checkpoint, so it cannot take init_model", where,
         kind.name);
  }
  if (row.has("init_checkpoint")) {
    fail("{}: init_model and init_checkpoint both given (one start point per job)", where);
  }
  Params out;
  for (const auto& [key, value] : row.items()) {
    if (key != "init_model") out.set(key, value);
  }
  out.set("init_checkpoint", model_checkpoint(row.get_string("init_model", ""),
                                              row.get_string("task", ""), where, depends_on));
  return out;
}

JobSpec Expander::finish(const JobKind& kind, Params row, const std::string& where) {
  std::vector<std::string> depends_on;
  if (row.has("model")) {
    const std::string checkpoint = model_checkpoint(row.get_string("model", ""),
                                                    row.get_string("task", ""), where, depends_on);
    if (!row.has("checkpoint")) row.set("checkpoint", checkpoint);
    if (!kind.accepts("checkpoint")) {
      fail("{}: job kind '{}' takes no checkpoint, so it cannot take a model", where, kind.name);
    }
  }
  row = resolve_init_model(kind, row, where, depends_on);
  JobSpec spec = make_spec(kind, std::move(row));
  if (kind.prerequisites) {
    for (const auto& [prerequisite_kind, params] : kind.prerequisites(spec.params)) {
      JobSpec needed = make_spec(registry_.get(prerequisite_kind), params);
      needed.depends_on = depends_on;  // it starts from the same checkpoint
      depends_on.push_back(needed.id);
      if (recipe_ids_.insert(needed.id).second) recipe_jobs_.push_back(std::move(needed));
    }
  }
  spec.depends_on = std::move(depends_on);
  return spec;
}

std::vector<JobSpec> Expander::run() {
  std::vector<JobSpec> grid_jobs;
  for (const GridSpec& grid : config_.grids) {
    const JobKind* kind = nullptr;
    try {
      kind = &registry_.get(grid.kind);
    } catch (const Error& error) {
      fail("{}: grids.{}: {}", grid.where, grid.name, error.what());
    }
    for (const Axis& axis : grid.axes) check_axis(*kind, axis, grid.name);
    for (const auto& group : grid.zips) {
      for (const Axis& axis : group) check_axis(*kind, axis, grid.name);
    }
    for (const auto& extra : grid.includes) {
      for (const Axis& axis : extra) check_axis(*kind, axis, grid.name);
    }
    for (const MatchRule& rule : grid.excludes) {
      for (const Axis& axis : rule.keys) check_axis(*kind, axis, grid.name);
    }

    std::vector<Params> base{Params()};
    for (const Axis& axis : grid.axes) base = product(base, axis);
    for (const auto& group : grid.zips) base = zip_product(base, group);
    std::vector<Params> rows;
    for (const Params& row : base) {
      for (Params& full : complete(*kind, row, grid.where)) {
        const bool excluded =
            std::any_of(grid.excludes.begin(), grid.excludes.end(),
                        [&](const MatchRule& rule) { return matches(full, rule.keys); });
        if (!excluded) rows.push_back(std::move(full));
      }
    }
    Params scalars;
    for (const Axis& axis : grid.axes) {
      if (axis.values.size() == 1) scalars.set(axis.key, axis.values.front());
    }
    for (const auto& extra : grid.includes) {
      std::vector<Params> extra_rows{scalars};
      for (const Axis& axis : extra) extra_rows = product(extra_rows, axis);
      for (const Params& row : extra_rows) {
        for (Params& full : complete(*kind, row, grid.where)) rows.push_back(std::move(full));
      }
    }
    for (Params& row : rows) grid_jobs.push_back(finish(*kind, std::move(row), grid.where));
  }

  std::vector<JobSpec> jobs = std::move(recipe_jobs_);
  std::set<std::string> seen(recipe_ids_);
  for (JobSpec& job : grid_jobs) {
    if (seen.insert(job.id).second) jobs.push_back(std::move(job));
  }
  return jobs;
}

}  // namespace

std::vector<JobSpec> expand_jobs(const SweepConfig& config, const JobRegistry& registry) {
  return Expander(config, registry).run();
}

std::vector<JobSpec> select_jobs(const std::vector<JobSpec>& jobs,
                                 const std::vector<std::string>& only,
                                 const std::vector<std::string>& filters) {
  if (only.empty() && filters.empty()) return jobs;
  const Params wanted = Params::parse(filters, "--filter");
  std::set<std::string> selected;
  for (const JobSpec& job : jobs) {
    const bool named = only.empty() || std::find(only.begin(), only.end(), job.id) != only.end();
    bool matching = true;
    for (const auto& [key, value] : wanted.items()) {
      matching = matching && job.params.get_string(key, "") == value && job.params.has(key);
    }
    if (named && matching) selected.insert(job.id);
  }
  for (const std::string& id : only) {
    const bool known =
        std::any_of(jobs.begin(), jobs.end(), [&](const JobSpec& job) { return job.id == id; });
    if (!known) fail("--only {}: no job of this sweep has that id (see --dry-run)", id);
  }
  // Dependencies come before their dependents in `jobs`, so one backward pass closes the set.
  for (auto it = jobs.rbegin(); it != jobs.rend(); ++it) {
    if (selected.count(it->id) != 0) selected.insert(it->depends_on.begin(), it->depends_on.end());
  }
  std::vector<JobSpec> out;
  for (const JobSpec& job : jobs) {
    if (selected.count(job.id) != 0) out.push_back(job);
  }
  return out;
}

}  // namespace kprune::sweep
