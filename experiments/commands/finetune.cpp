// kprune finetune: trains a teacher checkpoint on a task, from a checkpoint or from random init.
#include <fmt/format.h>

#include <iostream>

#include "experiments/commands/commands.h"
#include "framework/model/device.h"
#include "framework/model/precision.h"
#include "framework/tasks/task.h"
#include "framework/train/teacher.h"
#include "framework/util/timer.h"

namespace kprune::cli {
namespace {

struct FinetuneArgs {
  TeacherRecipe recipe;
  std::string out_dir;
  std::string device = "auto";
  std::string precision = "fp32";
  int threads = 0;
};

void run_finetune(FinetuneArgs args) {
  TeacherRecipe& recipe = args.recipe;
  recipe.options.precision = parse_precision(args.precision);
  configure_threads(args.threads, recipe.options.precision);
  recipe.options.device = parse_device(args.device);
  if (recipe.data_dir.empty()) recipe.data_dir = default_data_dir(find_task(recipe.task));
  if (recipe.vocab.empty() && recipe.init_checkpoint.empty())
    recipe.vocab = "../shared/data/vocab/bert-base-uncased-vocab.txt";
  Stopwatch clock;
  const TeacherRun run = train_teacher(recipe, args.out_dir, std::cerr);
  fmt::print("{}\n", nlohmann::json{{"task", find_task(recipe.task).name},
                                    {"out", args.out_dir},
                                    {"best_step", run.result.best.step},
                                    {"dev", run.result.best.metrics},
                                    {"wall_time_s", clock.seconds()}}
                         .dump());
}

}  // namespace

void add_finetune_command(CLI::App& app) {
  auto args = std::make_shared<FinetuneArgs>();
  CLI::App* cmd = app.add_subcommand(
      "finetune", "Fine-tune a teacher on a task (from a checkpoint or random init)");
  cmd->add_option("--task", args->recipe.task,
                  "Task name (sst2, mrpc, stsb, qqp, ..., synthetic, squad, squad_v2)")
      ->required();
  cmd->add_option(
      "--data-dir", args->recipe.data_dir,
      "Task data folder (default: ../shared/data/glue, or ../shared/data/squad for QA)");
  cmd->add_option("--out", args->out_dir,
                  "Output checkpoint directory (best dev checkpoint, HF layout)")
      ->required();
  cmd->add_option("--init-checkpoint", args->recipe.init_checkpoint,
                  "Start from this HF checkpoint directory (default: random init)");
  cmd->add_option(
      "--vocab", args->recipe.vocab,
      "WordPiece vocab.txt (default: the checkpoint's, else bert-base-uncased from ../shared)");
  cmd->add_flag("--cased", args->recipe.cased, "Do not lower-case (cased vocabularies)");
  add_random_init_shape_options(cmd, args->recipe);
  cmd->add_option("--dropout", args->recipe.dropout,
                  "Random init: dropout probability (default: HF's 0.1)");
  cmd->add_option("--steps", args->recipe.options.max_steps, "Optimizer steps")
      ->capture_default_str();
  cmd->add_option("--batch-size", args->recipe.options.batch_size, "Training batch size")
      ->capture_default_str();
  cmd->add_option("--lr", args->recipe.options.learning_rate, "Peak learning rate (AdamW)")
      ->capture_default_str();
  cmd->add_option("--warmup", args->recipe.options.warmup_ratio, "Warmup fraction of the steps")
      ->capture_default_str();
  cmd->add_option("--weight-decay", args->recipe.options.weight_decay, "AdamW weight decay")
      ->capture_default_str();
  cmd->add_option("--max-grad-norm", args->recipe.options.max_grad_norm,
                  "Gradient clipping norm (0: off)")
      ->capture_default_str();
  cmd->add_option("--seed", args->recipe.options.seed, "Random seed (init, shuffling, dropout)")
      ->capture_default_str();
  cmd->add_option("--eval-every", args->recipe.options.eval_every, "Steps between dev evaluations")
      ->capture_default_str();
  cmd->add_option("--max-seq-len", args->recipe.max_seq_len,
                  "Truncation length (default: the task's)");
  cmd->add_option("--doc-stride", args->recipe.doc_stride,
                  "QA: context tokens shared by consecutive windows")
      ->capture_default_str();
  cmd->add_option("--max-train-examples", args->recipe.max_train_examples,
                  "Use only the first N training examples (QA: questions)");
  cmd->add_option("--device", args->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  add_precision_option(cmd, args->precision);
  cmd->add_option("--threads", args->threads, "Intra-op threads (0: all cores)")
      ->capture_default_str();
  cmd->callback([args] { run_finetune(*args); });
}

}  // namespace kprune::cli
