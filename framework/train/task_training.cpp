#include "framework/train/task_training.h"

#include "framework/tasks/evaluate.h"
#include "framework/tasks/features.h"
#include "framework/tasks/squad_data.h"
#include "framework/tasks/squad_evaluate.h"
#include "framework/tasks/squad_features.h"
#include "framework/tasks/squad_task.h"

namespace kprune {
namespace {

struct GlueData {
  std::vector<Feature> train, dev;
};

struct SquadData {
  std::vector<SquadFeature> train;
  SquadDataset dev;
  std::vector<SquadFeature> dev_features;
};

TaskTrainingData glue_data(const TaskSpec& task, const std::string& data_dir,
                           const WordPieceTokenizer& tokenizer, bool token_types,
                           const TaskTrainingOptions& data_options, const FinetuneOptions& options,
                           TaskTrainingData out) {
  SplitData train_split = read_split(task, data_dir, task.train_split);
  if (data_options.max_train_examples > 0 &&
      static_cast<int64_t>(train_split.examples.size()) > data_options.max_train_examples) {
    train_split.examples.resize(static_cast<size_t>(data_options.max_train_examples));
  }
  const SplitData dev_split = read_split(task, data_dir, task.dev_split);
  auto data = std::make_shared<GlueData>();
  data->train = encode_examples(tokenizer, train_split.examples, out.max_seq_len, token_types);
  data->dev = encode_examples(tokenizer, dev_split.examples, out.max_seq_len, token_types);
  out.files = {train_split.path, dev_split.path};
  out.train_examples = out.train_features = static_cast<int64_t>(data->train.size());
  out.dev_examples = static_cast<int64_t>(data->dev.size());
  const HeadKind head = task.head_kind;
  const int64_t pad = options.pad_id;
  out.train = {out.train_features, [data, head, pad](const std::vector<int64_t>& indices) {
                 std::vector<const Feature*> members;
                 for (const int64_t i : indices)
                   members.push_back(&data->train[static_cast<size_t>(i)]);
                 return collate(members, head, pad);
               }};
  if (!data->dev.empty()) {
    out.evaluate_dev = [data, &task, options](EncoderModel& model) {
      return evaluate(model, task, data->dev, options.eval_batch_size, options.device).metrics;
    };
  }
  out.storage = data;
  return out;
}

TaskTrainingData squad_data(const TaskSpec& task, const std::string& data_dir,
                            const WordPieceTokenizer& tokenizer, bool token_types,
                            const TaskTrainingOptions& data_options, const FinetuneOptions& options,
                            TaskTrainingData out) {
  SquadFeatureOptions features;
  features.max_seq_len = out.max_seq_len;
  features.stride = data_options.doc_stride;
  features.use_token_types = token_types;
  const std::string train_path = squad_split_path(task, data_dir, task.train_split);
  const std::string dev_path = squad_split_path(task, data_dir, task.dev_split);
  SquadDataset train = read_squad_file(train_path);
  if (data_options.max_train_examples > 0 &&
      static_cast<int64_t>(train.questions.size()) > data_options.max_train_examples) {
    train.questions.resize(static_cast<size_t>(data_options.max_train_examples));
  }
  auto data = std::make_shared<SquadData>();
  data->train = make_squad_features(tokenizer, train, features);
  data->dev = read_squad_file(dev_path);
  data->dev_features = make_squad_features(tokenizer, data->dev, features);
  out.files = {train_path, dev_path};
  out.train_examples = static_cast<int64_t>(train.questions.size());
  out.train_features = static_cast<int64_t>(data->train.size());
  out.dev_examples = static_cast<int64_t>(data->dev.questions.size());
  const int64_t pad = options.pad_id;
  out.train = {out.train_features, [data, pad](const std::vector<int64_t>& indices) {
                 std::vector<const SquadFeature*> members;
                 for (const int64_t i : indices)
                   members.push_back(&data->train[static_cast<size_t>(i)]);
                 return collate_squad(members, true, pad);
               }};
  if (!data->dev_features.empty()) {
    const SquadDecodeOptions decode = squad_decode_options(task, data->dev);
    out.evaluate_dev = [data, decode, options](EncoderModel& model) {
      const SquadEvalResult result = evaluate_squad(model, data->dev, data->dev_features, decode,
                                                    options.eval_batch_size, options.device);
      return squad_metric_values(result.scores);
    };
  }
  out.storage = data;
  return out;
}

}  // namespace

TaskTrainingData load_task_training_data(const TaskSpec& task, const std::string& data_dir,
                                         const WordPieceTokenizer& tokenizer,
                                         const EncoderConfig& config,
                                         const TaskTrainingOptions& data_options,
                                         const FinetuneOptions& options) {
  TaskTrainingData out;
  out.max_seq_len = data_options.max_seq_len > 0 ? data_options.max_seq_len : task.max_seq_len;
  const bool token_types = config.type_vocab_size > 0;
  if (task.head_kind == HeadKind::question_answering) {
    return squad_data(task, data_dir, tokenizer, token_types, data_options, options, out);
  }
  return glue_data(task, data_dir, tokenizer, token_types, data_options, options, out);
}

}  // namespace kprune
