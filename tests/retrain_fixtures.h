#pragma once
// What the retraining tests share: a keyword task built in memory (label 1 iff the sentence
// holds the keyword), as TaskSplits a tiny teacher trains and is evaluated on.
#include <torch/torch.h>

#include <memory>
#include <random>
#include <vector>

#include "framework/model/encoder.h"
#include "framework/prune/task_pruning.h"
#include "framework/retrain/retrain_data.h"
#include "framework/tasks/task.h"

namespace kprune::testing {

inline constexpr int64_t kKeywordVocab = 30;
inline constexpr int64_t kKeyword = 7;  // ids 0-4 are [PAD] [UNK] [CLS] [SEP] [MASK]

// `size` sentences of 3..9 word ids in [5, vocab); about half hold the keyword.
inline TaskSplit keyword_split(int64_t size, uint64_t seed) {
  TaskSplit split;
  split.task = &find_task("sst2");
  split.path = "keyword task (in memory)";
  std::mt19937_64 rng(seed);
  for (int64_t i = 0; i < size; ++i) {
    Feature feature;
    const int64_t length = 3 + static_cast<int64_t>(rng() % 7);
    feature.input_ids.push_back(2);
    bool positive = rng() % 2 == 0;
    const int64_t slot = static_cast<int64_t>(rng() % static_cast<uint64_t>(length));
    for (int64_t j = 0; j < length; ++j) {
      int64_t id = 5 + static_cast<int64_t>(rng() % (kKeywordVocab - 5));
      if (id == kKeyword) id = 8;
      feature.input_ids.push_back(positive && j == slot ? kKeyword : id);
    }
    feature.input_ids.push_back(3);
    feature.token_type_ids.assign(feature.input_ids.size(), 0);
    feature.label = positive ? 1 : 0;
    feature.example_index = i;
    split.features.push_back(std::move(feature));
  }
  return split;
}

// A random float32 BERT: 2 layers, hidden 16, 4 heads (d_h 4), FFN 8, two labels.
inline std::shared_ptr<EncoderModel> keyword_teacher(uint64_t seed, int64_t layers = 2) {
  const nlohmann::json json = {{"model_type", "bert"},
                               {"vocab_size", kKeywordVocab},
                               {"hidden_size", 16},
                               {"num_hidden_layers", layers},
                               {"num_attention_heads", 4},
                               {"intermediate_size", 8},
                               {"max_position_embeddings", 16},
                               {"num_labels", 2},
                               {"initializer_range", 0.2}};
  auto model = EncoderModel::random(EncoderConfig::from_json(json, "keyword teacher"), seed);
  model->eval();
  return model;
}

struct KeywordData {
  TaskSplit train, dev;
  RetrainData data;
};

inline std::unique_ptr<KeywordData> keyword_data(int64_t train_size, int64_t dev_size) {
  auto out = std::make_unique<KeywordData>();
  out->train = keyword_split(train_size, 1);
  out->dev = keyword_split(dev_size, 2);
  out->data = make_retrain_data(find_task("sst2"), out->train, out->dev, 8.0, 0, 0);
  return out;
}

}  // namespace kprune::testing
