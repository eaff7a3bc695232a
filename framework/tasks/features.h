#pragma once
// Tokenized examples (features) and their padded batches.
#include <cstdint>
#include <vector>

#include "framework/model/batch.h"
#include "framework/model/config.h"
#include "framework/tasks/task.h"
#include "framework/text/wordpiece_tokenizer.h"

namespace kprune {

struct Feature {
  std::vector<int64_t> input_ids;  // [CLS] a [SEP] (b [SEP]), unpadded
  std::vector<int64_t> token_type_ids;
  double label = 0;  // class index or score; NaN if unlabelled
  int64_t example_index = 0;

  int64_t length() const { return static_cast<int64_t>(input_ids.size()); }
};

// One feature per example, truncated longest-first to `max_seq_len` (algorithms.md 8.1).
// Without token types (DistilBERT) every token_type_id is 0.
std::vector<Feature> encode_examples(const WordPieceTokenizer& tokenizer,
                                     const std::vector<Example>& examples, int64_t max_seq_len,
                                     bool use_token_types);

// Pads `features` to the longest of them with `pad_id` (attention_mask 0 there). Labels are
// int64 for classification and float32 for regression; they are left undefined when every
// feature is unlabelled (a mix is an error).
Batch collate(const std::vector<const Feature*>& features, HeadKind head_kind, int64_t pad_id = 0);

}  // namespace kprune
