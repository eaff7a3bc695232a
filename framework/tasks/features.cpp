#include "framework/tasks/features.h"

#include <algorithm>
#include <cmath>

#include "framework/util/error.h"

namespace kprune {

std::vector<Feature> encode_examples(const WordPieceTokenizer& tokenizer,
                                     const std::vector<Example>& examples, int64_t max_seq_len,
                                     bool use_token_types) {
  std::vector<Feature> features;
  features.reserve(examples.size());
  for (size_t i = 0; i < examples.size(); ++i) {
    const Example& example = examples[i];
    const auto text_b = example.text_b ? std::optional<std::string_view>(*example.text_b)
                                       : std::optional<std::string_view>();
    Encoding encoding = tokenizer.encode(example.text_a, text_b, max_seq_len);
    Feature feature;
    feature.input_ids = std::move(encoding.input_ids);
    feature.token_type_ids = use_token_types ? std::move(encoding.token_type_ids)
                                             : std::vector<int64_t>(feature.input_ids.size(), 0);
    feature.label = example.label;
    feature.example_index = static_cast<int64_t>(i);
    features.push_back(std::move(feature));
  }
  return features;
}

Batch collate(const std::vector<const Feature*>& features, HeadKind head_kind, int64_t pad_id) {
  if (features.empty()) fail("collate: an empty batch");
  int64_t longest = 0;
  size_t labelled = 0;
  for (const Feature* feature : features) {
    longest = std::max(longest, feature->length());
    labelled += std::isnan(feature->label) ? 0 : 1;
  }
  if (labelled != 0 && labelled != features.size()) {
    fail(
        "collate: {} of {} features in the batch are unlabelled; a batch is all labelled or "
        "all unlabelled",
        features.size() - labelled, features.size());
  }
  const auto size = static_cast<int64_t>(features.size());
  const auto int64 = torch::TensorOptions().dtype(torch::kInt64);
  Batch batch;
  batch.input_ids = torch::full({size, longest}, pad_id, int64);
  batch.token_type_ids = torch::zeros({size, longest}, int64);
  batch.attention_mask = torch::zeros({size, longest}, int64);
  auto ids = batch.input_ids.accessor<int64_t, 2>();
  auto types = batch.token_type_ids.accessor<int64_t, 2>();
  auto mask = batch.attention_mask.accessor<int64_t, 2>();
  for (int64_t row = 0; row < size; ++row) {
    const Feature& feature = *features[static_cast<size_t>(row)];
    for (int64_t t = 0; t < feature.length(); ++t) {
      ids[row][t] = feature.input_ids[static_cast<size_t>(t)];
      types[row][t] = feature.token_type_ids[static_cast<size_t>(t)];
      mask[row][t] = 1;
    }
  }
  if (labelled == 0) return batch;
  if (head_kind == HeadKind::regression) {
    batch.labels = torch::empty({size}, torch::kFloat32);
    auto labels = batch.labels.accessor<float, 1>();
    for (int64_t row = 0; row < size; ++row) {
      labels[row] = static_cast<float>(features[static_cast<size_t>(row)]->label);
    }
  } else if (head_kind == HeadKind::classification) {
    batch.labels = torch::empty({size}, int64);
    auto labels = batch.labels.accessor<int64_t, 1>();
    for (int64_t row = 0; row < size; ++row) {
      labels[row] = static_cast<int64_t>(features[static_cast<size_t>(row)]->label);
    }
  } else {
    fail("collate: {} features are not sentence features", to_string(head_kind));
  }
  return batch;
}

}  // namespace kprune
