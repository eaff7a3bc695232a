// kprune eval: evaluates a checkpoint on a split of a task and prints the metrics as one JSON
// object on stdout; optionally writes one JSON line per example (index, gold label,
// prediction) so that any metric can be recomputed elsewhere. On SQuAD it decodes every
// question over its windows, prints the official scores and writes the official predictions
// file (question id -> answer text; v2 also the no-answer odds).
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
#include "framework/tasks/squad_evaluate.h"
#include "framework/tasks/squad_features.h"
#include "framework/tasks/squad_task.h"
#include "framework/tasks/task.h"
#include "framework/tasks/tokenizer_files.h"
#include "framework/util/error.h"
#include "framework/util/files.h"
#include "framework/util/timer.h"

namespace kprune::cli {
namespace {

struct EvalArgs {
  std::string checkpoint;
  std::string task;
  std::string data_dir;    // empty: the task's default_data_dir
  std::string split;       // empty: the task's dev split
  int64_t batch_size = 0;  // 0: 128, or 32 for QA tasks (algorithms.md 8)
  std::string device = "auto";
  int threads = 0;
  std::string predictions_out;
  std::string na_prob_out;
  int64_t max_examples = 0;
  int64_t max_seq_len = 0;  // 0: the task's
  int64_t doc_stride = 128;
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

bool is_qa(const TaskSpec& task) { return task.head_kind == HeadKind::question_answering; }

void run_squad_eval(const EvalArgs& args, const TaskSpec& task, const std::string& split,
                    EncoderModel& model, torch::Device device) {
  const std::string path = squad_split_path(task, args.data_dir, split);
  Stopwatch clock;
  SquadDataset dataset = read_squad_file(path);
  if (args.max_examples > 0 && static_cast<int64_t>(dataset.questions.size()) > args.max_examples) {
    dataset.questions.resize(static_cast<size_t>(args.max_examples));
  }
  SquadFeatureOptions options;
  options.max_seq_len = args.max_seq_len > 0 ? args.max_seq_len : task.max_seq_len;
  options.stride = args.doc_stride;
  options.use_token_types = model.config().type_vocab_size > 0;
  const auto features =
      make_squad_features(load_checkpoint_tokenizer(args.checkpoint), dataset, options);
  const double feature_seconds = clock.seconds();
  const SquadDecodeOptions decode = squad_decode_options(task, dataset);
  if (!args.na_prob_out.empty() && !decode.version_2) {
    fail("kprune eval: --na-prob-out needs SQuAD v2 (task squad_v2), not task {}", task.name);
  }
  const int64_t batch_size = args.batch_size > 0 ? args.batch_size : 32;
  const SquadEvalResult result =
      evaluate_squad(model, dataset, features, decode, batch_size, device);

  if (!args.predictions_out.empty()) {
    write_file_atomic(args.predictions_out,
                      squad_predictions_json(result.predictions).dump() + "\n");
  }
  if (!args.na_prob_out.empty()) {
    write_file_atomic(args.na_prob_out, squad_null_odds_json(result.predictions).dump() + "\n");
  }
  const auto examples = static_cast<int64_t>(result.predictions.size());
  const double seconds = result.forward_seconds + result.decode_seconds;
  const nlohmann::ordered_json summary = {
      {"task", task.name},
      {"split", split},
      {"checkpoint", args.checkpoint},
      {"examples", examples},
      {"features", features.size()},
      {"metrics", result.scores.to_json()},
      {"seconds", seconds},
      {"forward_seconds", result.forward_seconds},
      {"decode_seconds", result.decode_seconds},
      {"feature_seconds", feature_seconds},
      {"examples_per_s", static_cast<double>(examples) / std::max(seconds, 1e-9)},
      {"tokens", result.tokens},
  };
  std::cout << summary.dump() << std::endl;
}

void run_eval(EvalArgs args) {
  const TaskSpec& task = find_task(args.task);
  const std::string split = args.split.empty() ? task.dev_split : args.split;
  if (args.data_dir.empty()) args.data_dir = default_data_dir(task);
  configure_threads(args.threads);
  const torch::Device device = parse_device(args.device);

  const auto model = load_checkpoint(args.checkpoint, device);
  check_head_matches_task(model->config(), task, args.checkpoint);
  if (is_qa(task)) {
    run_squad_eval(args, task, split, *model, device);
    return;
  }
  if (!args.na_prob_out.empty()) fail("kprune eval: --na-prob-out is for SQuAD v2 only");
  const auto tokenizer = load_checkpoint_tokenizer(args.checkpoint);

  SplitData data = read_split(task, args.data_dir, split);
  if (args.max_examples > 0 && static_cast<int64_t>(data.examples.size()) > args.max_examples) {
    data.examples.resize(static_cast<size_t>(args.max_examples));
  }
  const bool token_types = model->config().type_vocab_size > 0;
  const auto features = encode_examples(tokenizer, data.examples, task.max_seq_len, token_types);
  const EvalResult result =
      evaluate(*model, task, features, args.batch_size > 0 ? args.batch_size : 128, device);

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
                  "Folder holding <TaskDir>/<split>.tsv, or <v1.1|v2.0>/<split>.json for QA "
                  "(default: ../shared/data/glue, ../shared/data/squad)");
  cmd->add_option(
      "--split", args->split,
      "Split (file stem) to evaluate; default: the task's dev split (MNLI: dev_matched, "
      "squad_v2: dev-v2.0)");
  cmd->add_option("--batch-size", args->batch_size,
                  "Examples (QA: windows) per forward pass; 0: 128, 32 for QA")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  cmd->add_option("--device", args->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--threads", args->threads, "CPU threads (0: every available core)")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  cmd->add_option("--predictions-out", args->predictions_out,
                  "Write one JSON line {index, label, prediction} per example to this file; QA: "
                  "the official predictions file {question id: answer text}");
  cmd->add_option("--na-prob-out", args->na_prob_out,
                  "SQuAD v2: write {question id: null score - best span score} (for "
                  "squad-score --na-prob)");
  cmd->add_option("--max-examples", args->max_examples,
                  "Evaluate only the first N examples (QA: questions) of the split (0: all)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_option("--max-seq-len", args->max_seq_len, "QA: window length (0: the task's, 384)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  cmd->add_option("--doc-stride", args->doc_stride,
                  "QA: context tokens shared by consecutive windows")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 20));
  cmd->callback([args] { run_eval(*args); });
}

}  // namespace kprune::cli
