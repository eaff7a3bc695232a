#pragma once
// What a retraining-based baseline trains and evaluates on: a sentence(-pair) task's training
// and dev splits tokenized for the teacher (prune/task_pruning.h), the FLOPs length ℓ and the
// pad id. The splits are borrowed, so a sweep worker's cached teacher data serves every job.
#include <cstdint>
#include <vector>

#include "framework/model/batch.h"
#include "framework/prune/task_pruning.h"

namespace kprune {

struct RetrainData {
  const TaskSpec* task = nullptr;
  const TaskSplit* train = nullptr;
  const TaskSplit* dev = nullptr;
  int64_t train_examples = 0;  // the first N training features (a labelled subsample: fewer)
  double flops_seq_len = 0;    // ℓ of algorithms.md 2.1
  int64_t pad_id = 0;

  // Padded batch of training features `members` (indices below train_examples), with labels.
  Batch train_batch(const std::vector<int64_t>& members) const;
  // The dev features in order, in batches of `batch_size` (the last may be smaller).
  std::vector<Batch> dev_batches(int64_t batch_size) const;
};

// Checks that the task is a sentence(-pair) task with labelled splits (the baselines are not
// defined for question answering here) and clamps `max_train_examples` (0: all).
RetrainData make_retrain_data(const TaskSpec& task, const TaskSplit& train, const TaskSplit& dev,
                              double flops_seq_len, int64_t pad_id, int64_t max_train_examples);

}  // namespace kprune
