#include "framework/tasks/squad_features.h"

#include <cmath>

#include "framework/text/utf8.h"
#include "framework/util/error.h"

namespace kprune {
namespace {

// The training targets inside one window (HF run_qa prepare_train_features). `first`/`last`
// are the token indices of the window's first and last context token.
std::pair<int64_t, int64_t> answer_positions(const SquadQuestion& question,
                                             const SquadFeature& feature, int64_t first,
                                             int64_t last) {
  if (question.answers.empty()) return {0, 0};
  const SquadAnswer& answer = question.answers.front();
  const int64_t start_char = answer.start;
  const int64_t end_char = start_char + static_cast<int64_t>(decode_utf8(answer.text).size());
  const auto& offsets = feature.context_offsets;
  if (!(offsets[static_cast<size_t>(first)].first <= start_char &&
        offsets[static_cast<size_t>(last)].second >= end_char)) {
    return {0, 0};
  }
  // The last token starting at or before the answer, the first one ending at or after it. The
  // scan stays inside the context: HF's loop runs on into [SEP] (offset 0) when the answer starts
  // in the window's last token, which only moves its start onto [SEP] or beyond.
  int64_t start = first;
  while (start + 1 <= last && offsets[static_cast<size_t>(start + 1)].first <= start_char) ++start;
  int64_t end = last;
  while (end - 1 >= first && offsets[static_cast<size_t>(end - 1)].second >= end_char) --end;
  return {start, end};
}

}  // namespace

std::vector<int64_t> squad_window_starts(int64_t context_tokens, int64_t window, int64_t stride) {
  if (context_tokens <= window) return {0};
  if (stride >= window) {
    fail("a context window of {} tokens cannot overlap the next by stride {}", window, stride);
  }
  std::vector<int64_t> starts;
  for (int64_t start = 0;; start += window - stride) {
    starts.push_back(start);
    if (start + window >= context_tokens) break;
  }
  return starts;
}

std::vector<SquadFeature> make_squad_features(const WordPieceTokenizer& tokenizer,
                                              const SquadDataset& dataset,
                                              const SquadFeatureOptions& options) {
  // Each context is tokenized once for all of its questions.
  std::vector<std::vector<TokenPiece>> context_pieces(dataset.paragraphs.size());
  std::vector<bool> tokenized(dataset.paragraphs.size(), false);
  std::vector<SquadFeature> features;
  for (size_t q = 0; q < dataset.questions.size(); ++q) {
    const SquadQuestion& question = dataset.questions[q];
    const auto paragraph = static_cast<size_t>(question.paragraph);
    if (!tokenized[paragraph]) {
      context_pieces[paragraph] = tokenizer.tokenize(dataset.paragraphs[paragraph].context);
      tokenized[paragraph] = true;
    }
    const std::vector<TokenPiece>& context = context_pieces[paragraph];
    // Leading whitespace of the question (stripped by the reference) makes no tokens anyway.
    const std::vector<TokenPiece> question_pieces = tokenizer.tokenize(question.question);
    const auto question_length = static_cast<int64_t>(question_pieces.size());
    const int64_t window = options.max_seq_len - question_length - 3;
    const auto context_length = static_cast<int64_t>(context.size());
    if (window <= options.stride && context_length > window) {
      fail(
          "{}: question {}: its {} tokens leave {} context tokens per window of {}, not more "
          "than the stride {}",
          dataset.path, question.id, question_length, window, options.max_seq_len, options.stride);
    }
    for (const int64_t begin : squad_window_starts(context_length, window, options.stride)) {
      const int64_t end = std::min(begin + window, context_length);
      SquadFeature feature;
      feature.example_id = question.id;
      Feature& tokens = feature.tokens;
      tokens.example_index = static_cast<int64_t>(q);
      tokens.label = std::nan("");
      auto add = [&](int64_t id, int64_t type, std::pair<int64_t, int64_t> offset) {
        tokens.input_ids.push_back(id);
        tokens.token_type_ids.push_back(options.use_token_types ? type : 0);
        feature.context_offsets.push_back(offset);
      };
      add(tokenizer.cls_id(), 0, kNoContextOffset);
      for (const TokenPiece& piece : question_pieces) add(piece.id, 0, kNoContextOffset);
      add(tokenizer.sep_id(), 0, kNoContextOffset);
      const int64_t first = tokens.length();
      for (int64_t t = begin; t < end; ++t) {
        const TokenPiece& piece = context[static_cast<size_t>(t)];
        add(piece.id, 1, {piece.begin, piece.end});
      }
      const int64_t last = tokens.length() - 1;
      add(tokenizer.sep_id(), 1, kNoContextOffset);
      if (last >= first) {
        std::tie(feature.start_position, feature.end_position) =
            answer_positions(question, feature, first, last);
      }
      features.push_back(std::move(feature));
    }
  }
  return features;
}

Batch collate_squad(const std::vector<const SquadFeature*>& features, bool with_positions,
                    int64_t pad_id) {
  std::vector<const Feature*> tokens;
  tokens.reserve(features.size());
  for (const SquadFeature* feature : features) tokens.push_back(&feature->tokens);
  Batch batch = collate(tokens, HeadKind::question_answering, pad_id);
  if (with_positions) {
    const auto size = static_cast<int64_t>(features.size());
    batch.start_positions = torch::empty({size}, torch::kInt64);
    batch.end_positions = torch::empty({size}, torch::kInt64);
    auto starts = batch.start_positions.accessor<int64_t, 1>();
    auto ends = batch.end_positions.accessor<int64_t, 1>();
    for (int64_t row = 0; row < size; ++row) {
      starts[row] = features[static_cast<size_t>(row)]->start_position;
      ends[row] = features[static_cast<size_t>(row)]->end_position;
    }
  }
  return batch;
}

}  // namespace kprune
