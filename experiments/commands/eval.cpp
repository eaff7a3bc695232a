// kprune eval: evaluates a checkpoint on a split of a task and prints the metrics as one JSON
// object on stdout; optionally writes one JSON line per example (index, gold label,
// prediction) so that any metric can be recomputed elsewhere.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "experiments/commands/commands.h"
#include "framework/model/checkpoint.h"
#include "framework/model/device.h"
#include "framework/tasks/evaluate.h"
#include "framework/tasks/features.h"
#include "framework/tasks/task.h"
#include "framework/tasks/tokenizer_files.h"
#include "framework/util/files.h"

namespace kprune::cli {
namespace {

struct EvalArgs {
  std::string checkpoint;
  std::string task;
  std::string data_dir = "../shared/data/glue";
  std::string split;  // empty: the task's dev split
  int64_t batch_size = 128;
  std::string device = "auto";
  int threads = 0;
  std::string predictions_out;
  int64_t max_examples = 0;
};

// A class index as an integer, a score as a number, unlabelled as null.
nlohmann::json label_json(double value, HeadKind head_kind) {
  if (std::isnan(value)) return nullptr;
  if (head_kind == HeadKind::classification) return static_cast<int64_t>(value);
  return value;
}

void write_predictions(const std::string& path, const TaskSpec& task,
                       const std::vector<Feature>& features, const EvalResult& result) {
  std::string lines;
  for (size_t i = 0; i < features.size(); ++i) {
    lines += nlohmann::json{{"index", features[i].example_index},
                            {"label", label_json(result.golds[i], task.head_kind)},
                            {"prediction", label_json(result.predictions[i], task.head_kind)}}
                 .dump() +
             "\n";
  }
  write_file_atomic(path, lines);
}

void run_eval(const EvalArgs& args) {
  const TaskSpec& task = find_task(args.task);
  const std::string split = args.split.empty() ? task.dev_split : args.split;
  configure_threads(args.threads);
  const torch::Device device = parse_device(args.device);

  const auto model = load_checkpoint(args.checkpoint, device);
  check_head_matches_task(model->config(), task, args.checkpoint);
  const auto tokenizer = load_checkpoint_tokenizer(args.checkpoint);

  SplitData data = read_split(task, args.data_dir, split);
  if (args.max_examples > 0 && static_cast<int64_t>(data.examples.size()) > args.max_examples) {
    data.examples.resize(static_cast<size_t>(args.max_examples));
  }
  const bool token_types = model->config().type_vocab_size > 0;
  const auto features = encode_examples(tokenizer, data.examples, task.max_seq_len, token_types);
  const EvalResult result = evaluate(*model, task, features, args.batch_size, device);

  if (!args.predictions_out.empty()) {
    write_predictions(args.predictions_out, task, features, result);
  }
  const auto examples = static_cast<int64_t>(features.size());
  const nlohmann::json summary = {
      {"task", task.name},
      {"split", split},
      {"checkpoint", args.checkpoint},
      {"examples", examples},
      {"skipped_rows", data.skipped.size()},
      {"metrics", result.metrics},
      {"seconds", result.seconds},
      {"examples_per_s", static_cast<double>(examples) / std::max(result.seconds, 1e-9)},
      {"tokens", result.tokens},
  };
  std::cout << summary.dump() << std::endl;
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "Evaluate a checkpoint on a task split; prints the metrics as one JSON object");
  cmd->add_option("--checkpoint", args->checkpoint,
                  "HF checkpoint folder (config.json, model.safetensors, vocab.txt)")
      ->required();
  cmd->add_option("--task", args->task,
                  "Task name: " + fmt::format("{}", fmt::join(task_names(), ", ")))
      ->required();
  cmd->add_option("--data-dir", args->data_dir,
                  "Folder holding <TaskDir>/<split>.tsv (relative to the current directory)")
      ->capture_default_str();
  cmd->add_option(
      "--split", args->split,
      "Split (file stem) to evaluate; default: the task's dev split (MNLI: dev_matched)");
  cmd->add_option("--batch-size", args->batch_size, "Examples per forward pass")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--device", args->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--threads", args->threads, "CPU threads (0: every available core)")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  cmd->add_option("--predictions-out", args->predictions_out,
                  "Write one JSON line {index, label, prediction} per example to this file");
  cmd->add_option("--max-examples", args->max_examples,
                  "Evaluate only the first N examples of the split (0: all)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->callback([args] { run_eval(*args); });
}

}  // namespace kprune::cli
