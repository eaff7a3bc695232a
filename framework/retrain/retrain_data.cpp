#include "framework/retrain/retrain_data.h"

#include <algorithm>

#include "framework/util/error.h"

namespace kprune {

Batch RetrainData::train_batch(const std::vector<int64_t>& members) const {
  std::vector<const Feature*> features;
  for (const int64_t i : members) {
    if (i < 0 || i >= train_examples) {
      fail("training batch: example {} outside [0, {})", i, train_examples);
    }
    features.push_back(&train->features[static_cast<size_t>(i)]);
  }
  return collate(features, task->head_kind, pad_id);
}

std::vector<Batch> RetrainData::dev_batches(int64_t batch_size) const {
  std::vector<Batch> batches;
  for (size_t start = 0; start < dev->features.size(); start += static_cast<size_t>(batch_size)) {
    std::vector<const Feature*> members;
    const size_t end = std::min(dev->features.size(), start + static_cast<size_t>(batch_size));
    for (size_t i = start; i < end; ++i) members.push_back(&dev->features[i]);
    batches.push_back(collate(members, task->head_kind, pad_id));
  }
  return batches;
}

RetrainData make_retrain_data(const TaskSpec& task, const TaskSplit& train, const TaskSplit& dev,
                              double flops_seq_len, int64_t pad_id, int64_t max_train_examples) {
  if (task.head_kind == HeadKind::question_answering) {
    fail(
        "task {}: the retraining baselines (DynaBERT, EBERT) run on sentence(-pair) tasks here, "
        "not on question answering",
        task.name);
  }
  RetrainData data;
  data.task = &task;
  data.train = &train;
  data.dev = &dev;
  data.train_examples = static_cast<int64_t>(train.features.size());
  if (max_train_examples > 0)
    data.train_examples = std::min(data.train_examples, max_train_examples);
  data.flops_seq_len = flops_seq_len;
  data.pad_id = pad_id;
  return data;
}

}  // namespace kprune
