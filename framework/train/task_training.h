#pragma once
// The data a fine-tuning run trains and evaluates on, for any task: sentence(-pair) features
// scored by the task's metrics, or (question answering) SQuAD training windows with start/end
// positions ([CLS] when the answer is not inside the window) and dev questions scored by
// n-best decoding and the official SQuAD metrics.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "framework/model/config.h"
#include "framework/tasks/task.h"
#include "framework/text/wordpiece_tokenizer.h"
#include "framework/train/finetune.h"

namespace kprune {

struct TaskTrainingOptions {
  int64_t max_seq_len = 0;         // 0: the task's
  int64_t doc_stride = 128;        // SQuAD: tokens shared by consecutive context windows
  int64_t max_train_examples = 0;  // use only the first N training examples (questions); 0: all
};

struct TaskTrainingData {
  TrainingSet train;
  DevEvaluator evaluate_dev;       // with options.eval_batch_size on options.device
  std::vector<std::string> files;  // the train and dev files read
  int64_t train_examples = 0;      // examples (questions for SQuAD)
  int64_t train_features = 0;      // what batches are drawn from (SQuAD: windows)
  int64_t dev_examples = 0;
  int64_t max_seq_len = 0;              // the length used
  std::shared_ptr<const void> storage;  // the features the closures above refer to
};

// Reads and tokenizes the train and dev splits of `task` from `data_dir` for a model of
// `config` (token types or not).
TaskTrainingData load_task_training_data(const TaskSpec& task, const std::string& data_dir,
                                         const WordPieceTokenizer& tokenizer,
                                         const EncoderConfig& config,
                                         const TaskTrainingOptions& data_options,
                                         const FinetuneOptions& options);

}  // namespace kprune
