// kprune prune: prunes a fine-tuned checkpoint with a registered pruner, writes the physically
// pruned checkpoint and report.json, and evaluates teacher and pruned model on the dev split.
// A retraining method (DynaBERT, EBERT) trains on the task instead of a sample set.
// `kprune prune --list` lists every pruner and method with its parameters.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "experiments/commands/commands.h"
#include "framework/model/checkpoint.h"
#include "framework/model/device.h"
#include "framework/prune/pruner.h"
#include "framework/prune/sample_batches.h"
#include "framework/prune/task_pruning.h"
#include "framework/retrain/retrain_method.h"
#include "framework/tasks/evaluate.h"
#include "framework/tasks/task.h"
#include "framework/tasks/tokenizer_files.h"
#include "framework/util/error.h"
#include "framework/util/files.h"
#include "framework/util/params.h"
#include "framework/util/timer.h"

namespace kprune::cli {
namespace {

struct PruneArgs {
  bool list = false;
  std::string checkpoint;
  std::string task;
  std::string pruner;
  double flops_reduction = -1;
  std::vector<std::string> params;
  std::string out;
  std::string masked_export;
  std::string sample_batches;
  double flops_seq_len = 0;
  bool no_eval = false;
  std::string data_dir;  // empty: the task's default_data_dir
  int64_t num_tokens = kDefaultSampleTokens;
  uint64_t seed = 0;
  std::string device = "auto";
  int threads = 0;
  std::string work_dir;  // retraining methods: training state and models (default <out>/training)
};

void print_params(const std::vector<PrunerParam>& params) {
  for (const PrunerParam& p : params) {
    std::cout << fmt::format("    {}={}  {}\n", p.name, p.default_value, p.meaning);
  }
}

void print_list() {
  for (const PrunerInfo& info : pruner_registry()) {
    std::cout << info.name << (info.needs_labels ? "  (needs labelled samples)" : "") << "\n  "
              << info.description << "\n";
    print_params(info.params);
  }
  for (const RetrainMethod& method : retrain_methods()) {
    std::cout << method.name << "  (retraining: trains on the task's training set)\n  "
              << method.description << "\n";
    print_params(method.params);
  }
}

nlohmann::json eval_json(const TaskEvaluation& result) {
  return {{"metrics", result.metrics}, {"seconds", result.seconds}, {"tokens", result.tokens}};
}

// A retraining method (DynaBERT, EBERT): trains on the task's training set (resumable in
// --work-dir), writes the pruned checkpoint when the method makes one (DynaBERT) and
// report.json with the learning curve and the time split.
void run_retraining(const PruneArgs& args, const RetrainMethod& method) {
  if (args.task.empty())
    fail("kprune prune: --pruner {} trains on a task: give --task", method.name);
  if (!(args.flops_reduction >= 0 && args.flops_reduction < 1)) {
    fail("kprune prune: --flops-reduction must lie in [0, 1) (fraction of FLOPs removed), got {}",
         args.flops_reduction);
  }
  if (!args.sample_batches.empty() || args.no_eval) {
    fail(
        "kprune prune: --pruner {} trains on the task's data: --sample-batches and --no-eval do "
        "not apply",
        method.name);
  }
  configure_threads(args.threads);
  const torch::Device device = parse_device(args.device);
  const auto teacher = load_checkpoint(args.checkpoint, device);
  const TaskSpec& task = find_task(args.task);
  check_head_matches_task(teacher->config(), task, args.checkpoint);
  const std::string data_dir = args.data_dir.empty() ? default_data_dir(task) : args.data_dir;
  const auto tokenizer = load_checkpoint_tokenizer(args.checkpoint);
  const TaskSplit train =
      load_task_split(task, data_dir, task.train_split, tokenizer, teacher->config());
  const TaskSplit dev =
      load_task_split(task, data_dir, task.dev_split, tokenizer, teacher->config());
  const double seq_len = args.flops_seq_len > 0 ? args.flops_seq_len : pruning_seq_len(task, dev);
  const Params params =
      retrain_params(method, Params::parse(args.params, "kprune prune parameters"));

  RetrainInput input;
  input.teacher = teacher.get();
  input.data = make_retrain_data(task, train, dev, seq_len, teacher->config().pad_token_id,
                                 params.get_int("max_train_examples", 0));
  input.params = params;
  input.seed = args.seed;
  input.dir = args.work_dir.empty() ? args.out + "/training" : args.work_dir;
  input.log = &std::cerr;
  const RetrainOutcome outcome = method.prune(input, args.flops_reduction);

  std::filesystem::create_directories(args.out);
  if (outcome.model) {
    save_checkpoint(*outcome.model, args.out);
    copy_tokenizer_files(args.checkpoint, args.out);
  }
  const TaskEvaluation teacher_eval = evaluate_task(*teacher, dev, device);
  nlohmann::json report = {
      {"pruner", method.name},
      {"label", outcome.label},
      {"params", params.canonical()},
      {"checkpoint", args.checkpoint},
      {"task", args.task},
      {"flops_reduction", args.flops_reduction},
      {"flops_seq_len", seq_len},
      {"seed", args.seed},
      {"flops", {{"before", outcome.flops_before}, {"after", outcome.flops_after}}},
      {"metrics", outcome.metrics},
      {"teacher_metrics", teacher_eval.metrics},
      {"timing",
       {{"prune_seconds", outcome.pruning_seconds},
        {"importance_seconds", outcome.importance_seconds},
        {"train_seconds", outcome.train_seconds},
        {"eval_seconds", outcome.eval_seconds},
        {"io_seconds", outcome.io_seconds}}},
      {"censored", outcome.stopped_early},
      {"training_dir", input.dir},
      {"curve", curve_to_json(outcome.curve)},
      {"details", outcome.details}};
  write_file_atomic(args.out + "/report.json", report.dump(1) + "\n");
  std::cout << nlohmann::json{{"pruner", method.name},
                              {"label", outcome.label},
                              {"flops", report.at("flops")},
                              {"prune_seconds", outcome.pruning_seconds},
                              {"teacher_metrics", teacher_eval.metrics},
                              {"pruned_metrics", outcome.metrics},
                              {"out", args.out}}
                   .dump()
            << std::endl;
}

void run_prune(const PruneArgs& args) {
  if (args.list) {
    print_list();
    return;
  }
  for (const auto& [value, name] :
       {std::pair{&args.checkpoint, "--checkpoint"}, std::pair{&args.pruner, "--pruner"},
        std::pair{&args.out, "--out"}}) {
    if (value->empty()) fail("kprune prune: {} is required (or --list)", name);
  }
  if (const RetrainMethod* method = find_retrain_method(args.pruner)) {
    run_retraining(args, *method);
    return;
  }
  if (args.task.empty() && !args.no_eval) {
    fail("kprune prune: --task is required unless --no-eval is given");
  }
  if (args.task.empty() && args.flops_seq_len <= 0) {
    fail("kprune prune: without --task, --flops-seq-len must be given");
  }
  const PrunerInfo& info = find_pruner(args.pruner);
  Params params = Params::parse(args.params, "kprune prune parameters");
  configure_threads(args.threads);
  const torch::Device device = parse_device(args.device);

  auto model = load_checkpoint(args.checkpoint, device);
  const TaskSpec* task = args.task.empty() ? nullptr : &find_task(args.task);
  const std::string data_dir =
      !args.data_dir.empty() || task == nullptr ? args.data_dir : default_data_dir(*task);
  if (task != nullptr) check_head_matches_task(model->config(), *task, args.checkpoint);
  const HeadKind head_kind = task != nullptr ? task->head_kind : model->config().head_kind;
  // Only task data needs the vocabulary: --sample-batches --no-eval runs without one.
  std::optional<WordPieceTokenizer> loaded_tokenizer;
  auto tokenizer = [&]() -> const WordPieceTokenizer& {
    if (!loaded_tokenizer) loaded_tokenizer = load_checkpoint_tokenizer(args.checkpoint);
    return *loaded_tokenizer;
  };
  std::optional<TaskSplit> dev;  // evaluated on; also gives ℓ for tasks outside the table
  if (task != nullptr && (!args.no_eval || args.flops_seq_len <= 0)) {
    dev = load_task_split(*task, data_dir, task->dev_split, tokenizer(), model->config());
  }
  const double seq_len = args.flops_seq_len > 0 ? args.flops_seq_len : pruning_seq_len(*task, *dev);

  nlohmann::json record = {{"checkpoint", args.checkpoint},
                           {"task", args.task},
                           {"flops_reduction", args.flops_reduction},
                           {"flops_seq_len", seq_len},
                           {"params", params.canonical()},
                           {"seed", args.seed}};
  Stopwatch clock;
  std::vector<Batch> batches;
  if (!args.sample_batches.empty()) {
    batches = read_sample_batches(args.sample_batches, head_kind);
    record["sample_batches"] = args.sample_batches;
  } else {
    if (task == nullptr) fail("kprune prune: without --task, --sample-batches must be given");
    const TaskSplit train =
        load_task_split(*task, data_dir, task->train_split, tokenizer(), model->config());
    const int64_t size = pruning_sample_size(info, seq_len, args.num_tokens, train.size());
    SampleSet set = make_pruning_sample_set(train, size, args.seed, model->config().pad_token_id);
    batches = std::move(set.batches);
    record["sample_indices"] = set.indices;
    record["sample_tokens"] = set.num_tokens;
  }
  record["sample_seconds"] = clock.seconds();

  const auto teacher = args.no_eval ? nullptr : model->clone();
  PruneInput input;
  input.sample_batches = &batches;
  input.flops_reduction = args.flops_reduction;
  input.flops_seq_len = seq_len;
  input.head_kind = head_kind;
  input.params = params;
  input.device = device;
  const PruneReport report = run_pruner(args.pruner, *model, input);

  save_checkpoint(*model, args.out);
  copy_tokenizer_files(args.checkpoint, args.out);
  if (!args.masked_export.empty()) {
    save_masked_export(*model, args.masked_export);
    copy_tokenizer_files(args.checkpoint, args.masked_export);
  }
  nlohmann::json out = report.to_json();
  out["run"] = record;
  write_file_atomic(args.out + "/report.json", out.dump(1) + "\n");

  if (!args.no_eval) {
    out["teacher_eval"] = eval_json(evaluate_task(*teacher, *dev, device));
    out["pruned_eval"] = eval_json(evaluate_task(*model, *dev, device));
    // The dev evaluation should not be the slow part of a prune job: both side by side.
    out["timing"] = {{"prune_seconds", report.wall_seconds},
                     {"eval_seconds", out["pruned_eval"]["seconds"]}};
    write_file_atomic(args.out + "/report.json", out.dump(1) + "\n");
  }
  nlohmann::json summary = {{"pruner", report.pruner},
                            {"label", report.label},
                            {"flops", out.at("flops")},
                            {"wall_seconds", report.wall_seconds},
                            {"out", args.out}};
  if (out.contains("pruned_eval")) {
    summary["teacher_metrics"] = out["teacher_eval"]["metrics"];
    summary["pruned_metrics"] = out["pruned_eval"]["metrics"];
    summary["eval_seconds"] = out["timing"]["eval_seconds"];
  }
  std::cout << summary.dump() << std::endl;
}

}  // namespace

void add_prune_command(CLI::App& app) {
  auto args = std::make_shared<PruneArgs>();
  CLI::App* cmd = app.add_subcommand(
      "prune",
      "Prune a checkpoint (physically smaller), write it with report.json, evaluate on dev");
  cmd->add_flag("--list", args->list, "List every pruner with its parameters and exit");
  cmd->add_option("--checkpoint", args->checkpoint, "Fine-tuned HF checkpoint folder");
  cmd->add_option("--task", args->task,
                  "Task name: " + fmt::format("{}", fmt::join(task_names(), ", ")));
  cmd->add_option("--pruner", args->pruner,
                  "Registered pruner or retraining method (dynabert, ebert; see --list)");
  cmd->add_option("--flops-reduction", args->flops_reduction,
                  "Fraction of FLOPs removed, in [0, 1)");
  cmd->add_option("params", args->params, "Pruner parameters as key=value");
  cmd->add_option("--out", args->out, "Output folder of the pruned checkpoint and report.json");
  cmd->add_option("--masked-export", args->masked_export,
                  "Also write full-shape weights with zeros for removed units (stock HF loads it)");
  cmd->add_option("--sample-batches", args->sample_batches,
                  "JSON lines, one padded batch per line, used as the sample set in order");
  cmd->add_option("--flops-seq-len", args->flops_seq_len,
                  "Sequence length of the FLOPs accounting (default: the task's)");
  cmd->add_flag("--no-eval", args->no_eval, "Skip the dev evaluation (then --task is optional)");
  cmd->add_option("--data-dir", args->data_dir,
                  "Folder holding <TaskDir>/<split>.tsv, or <v1.1|v2.0>/<split>.json for QA "
                  "(default: ../shared/data/glue, ../shared/data/squad)");
  cmd->add_option("--num-tokens", args->num_tokens,
                  "Token budget of the sample set (algorithms.md 3.1)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  cmd->add_option("--seed", args->seed,
                  "Seed of the sample draw (retraining methods: of the training)")
      ->capture_default_str();
  cmd->add_option("--work-dir", args->work_dir,
                  "Retraining methods: where training state and models go; a rerun resumes "
                  "there (default: <out>/training)");
  cmd->add_option("--device", args->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--threads", args->threads, "CPU threads (0: every available core)")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  cmd->callback([args] { run_prune(*args); });
}

}  // namespace kprune::cli
