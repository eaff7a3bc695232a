#include "experiments/jobs/input_checks.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

#include "experiments/jobs/task_data.h"
#include "framework/model/checkpoint.h"
#include "framework/tasks/evaluate.h"

namespace kprune::jobs {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCheckpointHint =
    "Checkpoints: a teacher is a HuggingFace checkpoint folder fine-tuned on its task "
    "(config.json, model.safetensors, vocab.txt), where the config's [models] table says (e.g. "
    "ckpt/bert-base/<task>/ for configs/glue.toml); docs/cli.md converts a pytorch_model.bin. "
    "Without such checkpoints, configs/mini-glue.toml, configs/zoo.toml and the demos run on "
    "teachers that kprune trains itself (docs/zoo.md).";

constexpr const char* kDataHint =
    "Data: a [data] entry per family points at a folder with one folder per task as GLUE and "
    "SQuAD distribute them (glue = \"DIR\": DIR/SST-2/train.tsv, DIR/SST-2/dev.tsv, ...); "
    "without an entry kprune reads ../shared/data/glue and ../shared/data/squad.";

// "checkpoint 'DIR': missing config.json" -> "missing config.json": the path is listed beside it.
std::string without_path(const std::string& what, const std::string& dir) {
  for (const std::string& prefix : {fmt::format("checkpoint '{}': ", dir), dir + ": "}) {
    if (what.rfind(prefix, 0) == 0) return what.substr(prefix.size());
  }
  return what;
}

}  // namespace

InputProblems check_input_file(const std::string& path, const std::string& category,
                               const std::string& key, const std::string& hint) {
  std::error_code error;
  if (!fs::exists(path, error)) return {{category, key, path, "missing", hint}};
  if (fs::is_directory(path, error))
    return {{category, key, path, "is a folder, not a file", hint}};
  if (access(path.c_str(), R_OK) != 0) return {{category, key, path, "not readable", hint}};
  return {};
}

InputProblems check_checkpoint(const std::string& dir, const TaskSpec* task, const std::string& key,
                               sweep::InputCheckContext& context) {
  if (context.produced(dir)) return {};
  const std::string memo = fmt::format("checkpoint\n{}\n{}", dir, task ? task->name : "");
  return context.once(memo, [&]() -> InputProblems {
    auto problem = [&](std::string what) {
      return InputProblems{{"checkpoints", key, dir, std::move(what), kCheckpointHint}};
    };
    EncoderConfig config;
    try {
      config = read_checkpoint_config(dir);
    } catch (const std::exception& error) {
      return problem(without_path(error.what(), dir));
    }
    if (!fs::exists(fs::path(dir) / "vocab.txt")) return problem("missing vocab.txt");
    if (task != nullptr) {
      try {
        check_head_matches_task(config, *task, dir);
      } catch (const std::exception& error) {
        return problem(without_path(error.what(), dir));
      }
    }
    return {};
  });
}

InputProblems check_task_data(const TaskSpec& task, sweep::InputCheckContext& context) {
  const TaskDataLocation location =
      locate_task_data(task, context.data_dirs, context.artifacts_dir);
  if (location.generated) return {};
  const std::string key = "data." + location.data_key;
  return context.once(fmt::format("data\n{}\n{}", task.name, location.dir), [&]() {
    std::error_code error;
    if (!fs::is_directory(location.dir, error))
      return InputProblems{{"data", key, location.dir, "not a directory", kDataHint}};
    InputProblems problems;
    for (const std::string& split : {task.train_split, task.dev_split}) {
      for (sweep::InputProblem& problem :
           check_input_file(split_path(task, location.dir, split), "data", key, kDataHint))
        problems.push_back(std::move(problem));
    }
    return problems;
  });
}

InputProblems check_teacher_job(const Params& params, const std::string& kind,
                                sweep::InputCheckContext& context) {
  const TaskSpec& task = find_task(required_param(params, "task", kind));
  InputProblems problems =
      check_checkpoint(required_param(params, "checkpoint", kind), &task, "checkpoint", context);
  for (sweep::InputProblem& problem : check_task_data(task, context))
    problems.push_back(std::move(problem));
  return problems;
}

}  // namespace kprune::jobs
