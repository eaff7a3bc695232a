#include "framework/prune/task_pruning.h"

#include <algorithm>
#include <cmath>

#include "framework/model/flops.h"
#include "framework/tasks/evaluate.h"
#include "framework/tasks/squad_evaluate.h"
#include "framework/tasks/squad_sample_set.h"
#include "framework/tasks/squad_task.h"
#include "framework/util/error.h"

namespace kprune {
namespace {

constexpr int64_t kGlueSampleBatchSize = 32;
constexpr int64_t kGlueEvalBatchSize = 128;
constexpr int64_t kSquadEvalBatchSize = 32;

bool is_qa(const TaskSpec& task) { return task.head_kind == HeadKind::question_answering; }

bool has_reference_seq_len(const std::string& task) {
  for (const std::string& name : flops_tasks()) {
    if (name == task) return true;
  }
  return task == "squad_v2";
}

}  // namespace

int64_t TaskSplit::size() const {
  return static_cast<int64_t>(squad ? squad_features.size() : features.size());
}

double TaskSplit::mean_length() const {
  int64_t tokens = 0;
  for (const Feature& f : features) tokens += f.length();
  for (const SquadFeature& f : squad_features) tokens += f.tokens.length();
  return size() == 0 ? 0.0 : static_cast<double>(tokens) / static_cast<double>(size());
}

TaskSplit load_task_split(const TaskSpec& task, const std::string& data_dir,
                          const std::string& split, const WordPieceTokenizer& tokenizer,
                          const EncoderConfig& config) {
  TaskSplit out;
  out.task = &task;
  const bool token_types = config.type_vocab_size > 0;
  if (is_qa(task)) {
    out.path = squad_split_path(task, data_dir, split);
    out.squad = std::make_shared<SquadDataset>(read_squad_file(out.path));
    SquadFeatureOptions options;
    options.max_seq_len = task.max_seq_len;
    options.use_token_types = token_types;
    out.squad_features = make_squad_features(tokenizer, *out.squad, options);
  } else {
    const SplitData data = read_split(task, data_dir, split);
    out.path = data.path;
    out.features = encode_examples(tokenizer, data.examples, task.max_seq_len, token_types);
  }
  if (out.size() == 0) fail("{}: task {} split {} has no examples", out.path, task.name, split);
  return out;
}

double pruning_seq_len(const TaskSpec& task, const TaskSplit& dev) {
  if (has_reference_seq_len(task.name)) return task_flops_seq_len(task.name);
  return dev.mean_length();
}

int64_t pruning_sample_size(const PrunerInfo& pruner, double seq_len, int64_t num_tokens,
                            int64_t train_size, int64_t requested) {
  if (requested > 0) return requested;
  if (pruner.needs_labels) return kLabelledSampleSize;
  return sample_set_size(seq_len, num_tokens, train_size);
}

SampleSet make_pruning_sample_set(const TaskSplit& train, int64_t size, uint64_t seed,
                                  int64_t pad_id) {
  const int64_t batch = train.squad ? kSquadSampleBatchSize : kGlueSampleBatchSize;
  if (size < batch) {
    fail(
        "{}: the sample set would have {} examples, fewer than one batch ({}); raise "
        "num_tokens or sample_size",
        train.path, size, batch);
  }
  if (train.squad) return make_squad_sample_set(train.squad_features, size, seed, batch, pad_id);
  return make_sample_set(train.features, train.task->head_kind, size, seed, batch, pad_id);
}

TaskEvaluation evaluate_task(EncoderModel& model, const TaskSplit& split, torch::Device device) {
  TaskEvaluation out;
  if (split.squad) {
    SquadDecodeOptions decode;
    decode.version_2 = split.task->name == "squad_v2" || split.squad->has_unanswerable();
    const SquadEvalResult result = evaluate_squad(model, *split.squad, split.squad_features, decode,
                                                  kSquadEvalBatchSize, device);
    // Counts ("total") and thresholds are not percentages.
    const nlohmann::ordered_json scores = result.scores.to_json();
    for (const auto& [name, value] : scores.items()) {
      if (name.find("total") == std::string::npos && name.find("thresh") == std::string::npos)
        out.metrics[name] = value.get<double>();
    }
    out.seconds = result.forward_seconds + result.decode_seconds;
    out.tokens = result.tokens;
    return out;
  }
  const EvalResult result =
      evaluate(model, *split.task, split.features, kGlueEvalBatchSize, device);
  out.metrics = result.metrics;
  out.seconds = result.seconds;
  out.tokens = result.tokens;
  return out;
}

}  // namespace kprune
