#include "framework/train/teacher.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <vector>

#include "framework/model/checkpoint.h"
#include "framework/model/encoder.h"
#include "framework/model/family.h"
#include "framework/model/random_config.h"
#include "framework/tasks/evaluate.h"
#include "framework/text/wordpiece_tokenizer.h"
#include "framework/train/init_checkpoint.h"
#include "framework/train/task_training.h"
#include "framework/util/error.h"
#include "framework/util/files.h"
#include "framework/util/sha256.h"
#include "framework/util/timer.h"
#include "framework/util/version.h"

namespace kprune {

nlohmann::json random_init_config(const TeacherRecipe& recipe, const TaskSpec& task,
                                  int64_t vocab_size) {
  nlohmann::json config =
      random_encoder_config({recipe.model_type, recipe.layers, recipe.hidden, recipe.heads,
                             recipe.ffn, recipe.max_position, recipe.dropout},
                            vocab_size);
  const std::string head = task.head_kind == HeadKind::question_answering
                               ? "QuestionAnswering"
                               : "SequenceClassification";
  config["architectures"] = {model_family(recipe.model_type).architecture_prefix + "For" + head};
  if (task.head_kind != HeadKind::question_answering) {
    config["num_labels"] = task.num_labels;
    nlohmann::json id2label = nlohmann::json::object();
    for (int64_t i = 0; i < task.num_labels; ++i)
      id2label[std::to_string(i)] = fmt::format("LABEL_{}", i);
    config["id2label"] = id2label;
    config["problem_type"] =
        task.head_kind == HeadKind::regression ? "regression" : "single_label_classification";
  }
  return config;
}

TeacherRun train_teacher(const TeacherRecipe& recipe, const std::string& out_dir,
                         std::ostream& log) {
  const TaskSpec& task = find_task(recipe.task);
  Stopwatch clock;
  std::string vocab_path = recipe.vocab;
  if (vocab_path.empty() && !recipe.init_checkpoint.empty())
    vocab_path = recipe.init_checkpoint + "/vocab.txt";
  if (vocab_path.empty())
    fail("teacher for task {}: no vocab given and no init checkpoint", task.name);
  const auto tokenizer = WordPieceTokenizer::from_vocab_file(vocab_path, !recipe.cased);

  std::shared_ptr<EncoderModel> model;
  FinetuneOptions options = recipe.options;
  if (!recipe.init_checkpoint.empty()) {
    // A pretrained (MLM) encoder gets a fresh task head; a teacher must already fit the task.
    model = load_init_checkpoint(recipe.init_checkpoint, task, options.seed);
  } else {
    const nlohmann::json config = random_init_config(recipe, task, tokenizer.vocab_size());
    model = EncoderModel::random(EncoderConfig::from_json(config, "random init"), options.seed);
  }
  options.pad_id = tokenizer.pad_id();
  const TaskTrainingData data = load_task_training_data(
      task, recipe.data_dir, tokenizer, model->config(),
      {recipe.max_seq_len, recipe.doc_stride, recipe.max_train_examples}, options);
  const int64_t max_len = data.max_seq_len;
  if (recipe.epochs > 0) {
    options.max_steps =
        static_cast<int64_t>(std::ceil(recipe.epochs * static_cast<double>(data.train_features) /
                                       static_cast<double>(options.batch_size)));
  }
  log << fmt::format(
      "[finetune {}] {} train / {} dev examples ({} training features), {} parameters, device "
      "{}\n",
      task.name, data.train_examples, data.dev_examples, data.train_features,
      model->num_parameters(), options.device.str());
  log.flush();

  std::filesystem::create_directories(out_dir);
  auto save_best = [&](const EncoderModel& best, const EvalRecord&) {
    save_checkpoint(best, out_dir);
  };
  TeacherRun run;
  run.result = finetune_on(*model, task, data.train, data.evaluate_dev, options, save_best);

  std::filesystem::copy_file(vocab_path, out_dir + "/vocab.txt",
                             std::filesystem::copy_options::overwrite_existing);
  write_file_atomic(out_dir + "/tokenizer_config.json",
                    nlohmann::json{{"do_lower_case", !recipe.cased},
                                   {"model_max_length", 512},
                                   {"tokenizer_class", "BertTokenizer"}}
                        .dump(2));

  // How this teacher was made, so that any number measured on it can be traced back.
  nlohmann::json& record = run.record;
  record["code_version"] = code_version();
  record["task"] = task.name;
  record["init"] = recipe.init_checkpoint.empty() ? "random" : recipe.init_checkpoint;
  record["data_files"] = nlohmann::json::object();
  for (const std::string& path : data.files) record["data_files"][path] = sha256_file(path);
  record["vocab"] = {{"path", vocab_path}, {"sha256", sha256_file(vocab_path)}};
  record["recipe"] = {{"batch_size", options.batch_size},
                      {"max_steps", options.max_steps},
                      {"learning_rate", options.learning_rate},
                      {"warmup_ratio", options.warmup_ratio},
                      {"weight_decay", options.weight_decay},
                      {"max_grad_norm", options.max_grad_norm},
                      {"max_seq_len", max_len},
                      {"seed", options.seed},
                      {"precision", precision_name(options.precision)},
                      {"train_examples", data.train_examples}};
  const FinetuneResult& result = run.result;
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
  write_file_atomic(out_dir + "/training.json", record.dump(2));
  return run;
}

}  // namespace kprune
