#pragma once
// SQuAD features (algorithms.md 8.2): "[CLS] question [SEP] context-window [SEP]" with only the
// context truncated, in overlapping windows (HF tokenizers' overflow semantics), with the
// training start/end token positions and, per token, its character offsets in the context.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "framework/model/batch.h"
#include "framework/tasks/features.h"
#include "framework/tasks/squad_data.h"
#include "framework/text/wordpiece_tokenizer.h"

namespace kprune {

struct SquadFeatureOptions {
  int64_t max_seq_len = 384;
  int64_t stride = 128;         // tokens shared by consecutive windows
  bool use_token_types = true;  // false (DistilBERT): every token_type_id is 0
};

// Offsets of a token that is not part of the context ("null" in the reference).
inline constexpr std::pair<int64_t, int64_t> kNoContextOffset{-1, -1};

struct SquadFeature {
  // input_ids / token_type_ids unpadded; example_index = the question's index in the dataset;
  // label NaN (QA targets are the positions below).
  Feature tokens;
  std::string example_id;  // the question id
  // Training targets: the first answer's first and last token when the answer lies wholly in
  // this window's context, else both the [CLS] index 0 (also for unanswerable questions).
  int64_t start_position = 0;
  int64_t end_position = 0;
  // Per token: [begin, end) in code points of the context, kNoContextOffset for the question and
  // the special tokens.
  std::vector<std::pair<int64_t, int64_t>> context_offsets;
};

// The features of every question in order; a question's windows are consecutive. A question so
// long that the context gets `stride` tokens or fewer per window is an Error naming it (HF
// raises too).
std::vector<SquadFeature> make_squad_features(const WordPieceTokenizer& tokenizer,
                                              const SquadDataset& dataset,
                                              const SquadFeatureOptions& options = {});

// The start offsets of the context windows: [0, step, 2 step, ...) while the previous window has
// not reached the end, each window `window` tokens long (the last one may be shorter), with
// step = window - stride. One window when the context fits.
std::vector<int64_t> squad_window_starts(int64_t context_tokens, int64_t window, int64_t stride);

// Pads like collate(); with `with_positions` the batch carries start/end_positions.
Batch collate_squad(const std::vector<const SquadFeature*>& features, bool with_positions,
                    int64_t pad_id = 0);

}  // namespace kprune
