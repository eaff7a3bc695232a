#include "experiments/jobs/finetune_job.h"

#include <fmt/format.h>

#include <filesystem>

#include "experiments/jobs/input_checks.h"
#include "experiments/jobs/recipe_params.h"
#include "experiments/jobs/task_data.h"
#include "framework/model/device.h"
#include "framework/train/teacher.h"
#include "framework/util/sha256.h"

namespace kprune::jobs {
namespace {

TeacherRecipe recipe_of(const Params& p, const TaskSpec& task, sweep::WorkerContext& context) {
  TeacherRecipe recipe;
  recipe.task = task.name;
  recipe.data_dir = task_data_dir(task, context);
  recipe.init_checkpoint = p.get_string("init_checkpoint", "");
  recipe.cased = p.get_bool("cased", false);
  if (recipe.init_checkpoint.empty())
    recipe.vocab = random_init_vocab(recipe.data_dir, context.data_dirs);
  read_shape_params(p, recipe);
  if (p.has("dropout")) recipe.dropout = p.get_double("dropout", 0.1);
  recipe.max_seq_len = p.get_int("max_seq_len", 0);
  recipe.doc_stride = p.get_int("doc_stride", recipe.doc_stride);
  recipe.max_train_examples = p.get_int("max_train_examples", 0);
  recipe.epochs = p.get_double("epochs", 0);
  FinetuneOptions& o = recipe.options;
  read_optimizer_params(p, o);
  o.eval_every = p.get_int("eval_every", o.eval_every);
  o.device = parse_device(context.device);
  return recipe;
}

sweep::JobResult run_finetune(const sweep::JobSpec& spec, sweep::WorkerContext& context) {
  const TaskSpec& task = find_task(required_param(spec.params, "task", "finetune"));
  const TeacherRecipe recipe = recipe_of(spec.params, task, context);
  configure_threads(context.threads, recipe.options.precision);
  const std::string out_dir = (std::filesystem::path(context.artifacts_dir) / spec.id).string();
  std::filesystem::remove_all(out_dir);  // a failed earlier attempt may have left a checkpoint
  const TeacherRun run = train_teacher(recipe, out_dir, context.log_stream());

  sweep::JobResult result;
  result.attrs["metric_name"] = task.main_metric;
  result.attrs["checkpoint"] = out_dir;
  result.attrs["checkpoint_sha256"] = sha256_file(out_dir + "/model.safetensors");
  result.metrics = run.result.best.metrics;
  result.times["train"] = run.result.train_seconds;
  context.log_stream() << fmt::format("best dev step {}: {} = {:.2f}\n", run.result.best.step,
                                      task.main_metric,
                                      run.result.best.metrics.at(task.main_metric));
  return result;
}

// The task's data; the checkpoint it starts from, or the vocabulary of a random start.
InputProblems check_finetune_inputs(const sweep::JobSpec& spec, sweep::InputCheckContext& context) {
  const Params& p = spec.params;
  const TaskSpec& task = find_task(required_param(p, "task", "finetune"));
  InputProblems problems = check_task_data(task, context);
  const std::string init = p.get_string("init_checkpoint", "");
  InputProblems more;
  if (!init.empty()) {
    more = check_checkpoint(init, nullptr, "init_checkpoint", context);
  } else {
    const TaskDataLocation data = locate_task_data(task, context.data_dirs, context.artifacts_dir);
    if (!data.generated)  // synthetic data comes with its vocabulary
      more = check_input_file(random_init_vocab(data.dir, context.data_dirs), "data", "data.vocab");
  }
  problems.insert(problems.end(), more.begin(), more.end());
  return problems;
}

}  // namespace

sweep::JobKind finetune_job_kind() {
  return {"finetune",
          {"task",          "model",
           "tag",           "init_checkpoint",
           "model_type",    "layers",
           "hidden",        "heads",
           "ffn",           "max_position",
           "dropout",       "cased",
           "steps",         "epochs",
           "batch_size",    "lr",
           "warmup",        "weight_decay",
           "max_grad_norm", "eval_every",
           "max_seq_len",   "max_train_examples",
           "doc_stride",    "seed",
           "precision"},
          {},
          run_finetune,
          {},
          check_finetune_inputs};
}

}  // namespace kprune::jobs
