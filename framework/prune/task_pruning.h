#pragma once
// Pruning a checkpoint on a task's data: the task's splits tokenized for the model, the FLOPs
// length ℓ, the sample set a pruner gets and the dev evaluation. Shared by `kprune prune` and
// the sweep's prune job, so that both measure the same thing.
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "framework/model/encoder.h"
#include "framework/prune/pruner.h"
#include "framework/tasks/features.h"
#include "framework/tasks/sample_set.h"
#include "framework/tasks/squad_data.h"
#include "framework/tasks/squad_features.h"
#include "framework/tasks/task.h"
#include "framework/text/wordpiece_tokenizer.h"

namespace kprune {

// Kwon et al.'s sample set size (--num_samples 2048, algorithms.md 3.2) for pruners that need
// labels; the others follow K-prune's token budget (3.1).
inline constexpr int64_t kLabelledSampleSize = 2048;
inline constexpr int64_t kDefaultSampleTokens = 100000;

// One split of a task tokenized for a model: GLUE-style features, or (question answering) the
// SQuAD questions with their windowed features.
struct TaskSplit {
  const TaskSpec* task = nullptr;
  std::string path;                     // the file read
  std::vector<Feature> features;        // sentence(-pair) tasks
  std::shared_ptr<SquadDataset> squad;  // question answering
  std::vector<SquadFeature> squad_features;

  int64_t size() const;  // features (windows for SQuAD)
  // Average real tokens per feature.
  double mean_length() const;
};

// Reads and tokenizes `split` of `task` from `data_dir` with the task's truncation length.
TaskSplit load_task_split(const TaskSpec& task, const std::string& data_dir,
                          const std::string& split, const WordPieceTokenizer& tokenizer,
                          const EncoderConfig& config);

// ℓ of algorithms.md 2.1: the reference's value for its tasks, else the average tokenized
// length of the dev split (the rule the reference's values were computed with).
double pruning_seq_len(const TaskSpec& task, const TaskSplit& dev);

// Sample examples for `pruner`: `requested` when positive, else 2048 for pruners that need
// labels, else min(floor(num_tokens / ℓ), |train|).
int64_t pruning_sample_size(const PrunerInfo& pruner, double seq_len, int64_t num_tokens,
                            int64_t train_size, int64_t requested = 0);

// The sample set drawn from `train` (algorithms.md 3: with replacement, draw order, batches of
// 32, 12 for SQuAD). Throws when it is smaller than one batch.
SampleSet make_pruning_sample_set(const TaskSplit& train, int64_t size, uint64_t seed,
                                  int64_t pad_id);

struct TaskEvaluation {
  std::map<std::string, double> metrics;  // x100, by the task's metric names
  double seconds = 0;
  int64_t tokens = 0;
};

// Evaluates `model` (already on `device`) on `split`: batches of 128 (GLUE) or 32 (SQuAD,
// decoded with the v2 null answer when the task or the data has unanswerable questions).
TaskEvaluation evaluate_task(EncoderModel& model, const TaskSplit& split, torch::Device device);

}  // namespace kprune
