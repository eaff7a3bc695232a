// kprune finetune: trains a teacher checkpoint on a task, from a checkpoint or from random init.
#include <fmt/format.h>

#include <filesystem>
#include <optional>

#include "experiments/commands/commands.h"
#include "framework/model/checkpoint.h"
#include "framework/model/device.h"
#include "framework/model/encoder.h"
#include "framework/tasks/evaluate.h"
#include "framework/tasks/features.h"
#include "framework/tasks/task.h"
#include "framework/text/wordpiece_tokenizer.h"
#include "framework/train/finetune.h"
#include "framework/train/init_checkpoint.h"
#include "framework/train/task_training.h"
#include "framework/util/error.h"
#include "framework/util/files.h"
#include "framework/util/sha256.h"
#include "framework/util/timer.h"
#include "framework/util/version.h"

namespace kprune::cli {
namespace {

struct FinetuneArgs {
  std::string task;
  std::string data_dir = "../shared/data/glue";
  std::string out_dir;
  std::string init_checkpoint;
  std::string vocab;
  bool cased = false;
  std::string model_type = "bert";
  int64_t layers = 4, hidden = 256, heads = 4, ffn = 1024, max_position = 512;
  std::optional<double> dropout;
  int64_t max_seq_len = 0;
  int64_t doc_stride = 128;
  int64_t max_train_examples = 0;
  std::string device = "auto";
  int threads = 0;
  FinetuneOptions options;
};

// An HF-style config.json for a randomly initialised model of the requested shape.
nlohmann::json random_init_config(const FinetuneArgs& args, const TaskSpec& task, int64_t vocab_size) {
  nlohmann::json config;
  config["model_type"] = args.model_type;
  config["vocab_size"] = vocab_size;
  config["max_position_embeddings"] = args.max_position;
  config["initializer_range"] = 0.02;
  config["pad_token_id"] = 0;
  const std::string head = task.head_kind == HeadKind::question_answering ? "QuestionAnswering"
                                                                          : "SequenceClassification";
  if (args.model_type == "distilbert") {
    config["architectures"] = {"DistilBertFor" + head};
    config["dim"] = args.hidden;
    config["n_layers"] = args.layers;
    config["n_heads"] = args.heads;
    config["hidden_dim"] = args.ffn;
    config["activation"] = "gelu";
    config["dropout"] = args.dropout.value_or(0.1);
    config["attention_dropout"] = args.dropout.value_or(0.1);
    config["seq_classif_dropout"] = args.dropout.value_or(0.2);
    config["qa_dropout"] = args.dropout.value_or(0.1);
    config["sinusoidal_pos_embds"] = false;
  } else if (args.model_type == "bert") {
    config["architectures"] = {"BertFor" + head};
    config["hidden_size"] = args.hidden;
    config["num_hidden_layers"] = args.layers;
    config["num_attention_heads"] = args.heads;
    config["intermediate_size"] = args.ffn;
    config["hidden_act"] = "gelu";
    config["hidden_dropout_prob"] = args.dropout.value_or(0.1);
    config["attention_probs_dropout_prob"] = args.dropout.value_or(0.1);
    config["type_vocab_size"] = 2;
    config["layer_norm_eps"] = 1e-12;
  } else {
    fail("--model-type {}: expected bert or distilbert", args.model_type);
  }
  if (task.head_kind != HeadKind::question_answering) {
    config["num_labels"] = task.num_labels;
    nlohmann::json id2label = nlohmann::json::object();
    for (int64_t i = 0; i < task.num_labels; ++i) id2label[std::to_string(i)] = fmt::format("LABEL_{}", i);
    config["id2label"] = id2label;
    config["problem_type"] = task.head_kind == HeadKind::regression ? "regression"
                                                                     : "single_label_classification";
  }
  return config;
}

void run_finetune(FinetuneArgs args) {
  configure_threads(args.threads);
  const torch::Device device = parse_device(args.device);
  args.options.device = device;
  const TaskSpec& task = find_task(args.task);
  Stopwatch clock;

  std::string vocab_path = args.vocab;
  if (vocab_path.empty() && !args.init_checkpoint.empty()) vocab_path = args.init_checkpoint + "/vocab.txt";
  if (vocab_path.empty()) vocab_path = "../shared/data/vocab/bert-base-uncased-vocab.txt";
  const auto tokenizer = WordPieceTokenizer::from_vocab_file(vocab_path, !args.cased);

  std::shared_ptr<EncoderModel> model;
  if (!args.init_checkpoint.empty()) {
    model = load_init_checkpoint(args.init_checkpoint, task, args.options.seed);
  } else {
    const nlohmann::json config = random_init_config(args, task, tokenizer.vocab_size());
    model = EncoderModel::random(EncoderConfig::from_json(config, "random init"), args.options.seed);
  }
  args.options.pad_id = tokenizer.pad_id();
  const TaskTrainingData data = load_task_training_data(
      task, args.data_dir, tokenizer, model->config(),
      {args.max_seq_len, args.doc_stride, args.max_train_examples}, args.options);
  const int64_t max_len = data.max_seq_len;
  fmt::print(stderr,
             "[finetune {}] {} train / {} dev examples ({} training features), {} parameters, "
             "device {}\n",
             task.name, data.train_examples, data.dev_examples, data.train_features,
             model->num_parameters(), device.str());

  std::filesystem::create_directories(args.out_dir);
  auto save_best = [&](const EncoderModel& best, const EvalRecord&) {
    save_checkpoint(best, args.out_dir);
  };
  const FinetuneResult result =
      finetune_on(*model, task, data.train, data.evaluate_dev, args.options, save_best);

  std::filesystem::copy_file(vocab_path, args.out_dir + "/vocab.txt",
                             std::filesystem::copy_options::overwrite_existing);
  write_file_atomic(args.out_dir + "/tokenizer_config.json",
                    nlohmann::json{{"do_lower_case", !args.cased}, {"model_max_length", 512},
                                   {"tokenizer_class", "BertTokenizer"}}
                        .dump(2));

  // How this teacher was made, so that any number measured on it can be traced back.
  nlohmann::json record;
  record["code_version"] = code_version();
  record["task"] = task.name;
  record["init"] = args.init_checkpoint.empty() ? "random" : args.init_checkpoint;
  record["data_files"] = nlohmann::json::object();
  for (const std::string& path : data.files) record["data_files"][path] = sha256_file(path);
  record["vocab"] = {{"path", vocab_path}, {"sha256", sha256_file(vocab_path)}};
  const FinetuneOptions& o = args.options;
  record["recipe"] = {{"batch_size", o.batch_size},       {"max_steps", o.max_steps},
                      {"learning_rate", o.learning_rate}, {"warmup_ratio", o.warmup_ratio},
                      {"weight_decay", o.weight_decay},   {"max_grad_norm", o.max_grad_norm},
                      {"max_seq_len", max_len},           {"seed", o.seed},
                      {"train_examples", data.train_examples}};
  record["steps"] = result.steps;
  record["wall_time_s"] = clock.seconds();
  record["train_time_s"] = result.train_seconds;
  record["tokens_per_second"] = result.tokens_per_second;
  record["final_train_loss"] = result.final_loss;
  record["best"] = {{"step", result.best.step}, {"metrics", result.best.metrics}};
  nlohmann::json history = nlohmann::json::array();
  for (const EvalRecord& e : result.evaluations) {
    history.push_back({{"step", e.step}, {"seconds", e.seconds}, {"metrics", e.metrics}});
  }
  record["evaluations"] = history;
  write_file_atomic(args.out_dir + "/training.json", record.dump(2));
  fmt::print("{}\n", nlohmann::json{{"task", task.name},
                                    {"out", args.out_dir},
                                    {"best_step", result.best.step},
                                    {"dev", result.best.metrics},
                                    {"wall_time_s", clock.seconds()}}
                         .dump());
}

}  // namespace

void add_finetune_command(CLI::App& app) {
  auto args = std::make_shared<FinetuneArgs>();
  CLI::App* cmd = app.add_subcommand("finetune", "Fine-tune a teacher on a task (from a checkpoint or random init)");
  cmd->add_option("--task", args->task, "Task name (sst2, mrpc, stsb, qqp, ..., synthetic, squad, squad_v2)")->required();
  cmd->add_option("--data-dir", args->data_dir, "Folder holding <TaskDir>/{train,dev}.tsv")->capture_default_str();
  cmd->add_option("--out", args->out_dir, "Output checkpoint directory (best dev checkpoint, HF layout)")->required();
  cmd->add_option("--init-checkpoint", args->init_checkpoint, "Start from this HF checkpoint directory (default: random init)");
  cmd->add_option("--vocab", args->vocab, "WordPiece vocab.txt (default: the checkpoint's, else bert-base-uncased from ../shared)");
  cmd->add_flag("--cased", args->cased, "Do not lower-case (cased vocabularies)");
  cmd->add_option("--model-type", args->model_type, "Random init: bert or distilbert")->capture_default_str();
  cmd->add_option("--layers", args->layers, "Random init: encoder layers")->capture_default_str();
  cmd->add_option("--hidden", args->hidden, "Random init: hidden size")->capture_default_str();
  cmd->add_option("--heads", args->heads, "Random init: attention heads")->capture_default_str();
  cmd->add_option("--ffn", args->ffn, "Random init: FFN intermediate size")->capture_default_str();
  cmd->add_option("--max-position", args->max_position, "Random init: position embeddings")->capture_default_str();
  cmd->add_option("--dropout", args->dropout, "Random init: dropout probability (default: HF's 0.1)");
  cmd->add_option("--steps", args->options.max_steps, "Optimizer steps")->capture_default_str();
  cmd->add_option("--batch-size", args->options.batch_size, "Training batch size")->capture_default_str();
  cmd->add_option("--lr", args->options.learning_rate, "Peak learning rate (AdamW)")->capture_default_str();
  cmd->add_option("--warmup", args->options.warmup_ratio, "Warmup fraction of the steps")->capture_default_str();
  cmd->add_option("--weight-decay", args->options.weight_decay, "AdamW weight decay")->capture_default_str();
  cmd->add_option("--max-grad-norm", args->options.max_grad_norm, "Gradient clipping norm (0: off)")->capture_default_str();
  cmd->add_option("--seed", args->options.seed, "Random seed (init, shuffling, dropout)")->capture_default_str();
  cmd->add_option("--eval-every", args->options.eval_every, "Steps between dev evaluations")->capture_default_str();
  cmd->add_option("--max-seq-len", args->max_seq_len, "Truncation length (default: the task's)");
  cmd->add_option("--doc-stride", args->doc_stride, "QA: context tokens shared by consecutive windows")->capture_default_str();
  cmd->add_option("--max-train-examples", args->max_train_examples, "Use only the first N training examples (QA: questions)");
  cmd->add_option("--device", args->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--threads", args->threads, "Intra-op threads (0: all cores)")->capture_default_str();
  cmd->callback([args] { run_finetune(*args); });
}

}  // namespace kprune::cli
