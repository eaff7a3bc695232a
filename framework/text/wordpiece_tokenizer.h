#pragma once
// The BERT WordPiece tokenizer, giving the ids of HF transformers 4.25.1 BertTokenizer (Python
// implementation, uncased or cased) plus the character offsets of HF's fast tokenizer.
//
// Offsets are [begin, end) in Unicode code points of the text the token came from. A word piece
// covers the original characters of its first to its last normalized character: "Café" gives
// "cafe" [0,4); "playing" gives "play" [0,4) and "##ing" [4,7); pieces that split one original
// character (a Hangul syllable into jamo) all cover that character. Characters dropped by cleaning
// or accent stripping are covered only when they lie inside a piece. A word over 100 characters,
// or one WordPiece cannot cover, is one [UNK] over the whole word.
//
// Input must be valid UTF-8; invalid input throws kprune::Error naming the byte offset (replacing
// bytes would shift every offset after them).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kprune {

struct TokenPiece {
  int64_t id;
  int64_t begin;  // [begin, end) in code points of the input text
  int64_t end;
};

struct Encoding {
  std::vector<int64_t> input_ids;
  std::vector<int64_t> token_type_ids;
  std::vector<std::pair<int64_t, int64_t>> offsets;  // per token, code points in its own
                                                     // segment's text; {0,0} for specials
  std::vector<int> sequence_ids;  // per token: -1 special, 0 = text a, 1 = text b
};

class WordPieceTokenizer {
 public:
  // One token per line, id = line index. Errors name the file and line: an empty vocabulary, an
  // empty line, invalid UTF-8, a duplicate token, a missing [UNK], [CLS], [SEP] or [PAD].
  static WordPieceTokenizer from_vocab_file(const std::string& path, bool lower_case = true);

  // Word pieces without added special tokens; special tokens written in the text stay whole.
  std::vector<TokenPiece> tokenize(std::string_view text) const;

  // [CLS] a [SEP] (b [SEP]). max_length 0 = no truncation; otherwise HF "longest_first": one
  // token at a time is removed from the end of the longer text, from b when they are equally
  // long. max_length must leave room for the special tokens (2 for one text, 3 for a pair).
  Encoding encode(std::string_view a, std::optional<std::string_view> b = std::nullopt,
                  int64_t max_length = 0) const;

  int64_t token_to_id(std::string_view token) const;  // unk_id() if absent
  const std::string& id_to_token(int64_t id) const;   // throws for an id outside the vocabulary
  int64_t vocab_size() const;

  int64_t pad_id() const;
  int64_t cls_id() const;
  int64_t sep_id() const;
  int64_t unk_id() const;
  int64_t mask_id() const;  // throws when the vocabulary has no [MASK]
  bool lower_case() const;

 private:
  struct State;
  explicit WordPieceTokenizer(std::shared_ptr<const State> state);
  // Immutable and shared: copies are cheap, and the string_view keys of the vocabulary maps stay
  // valid however the tokenizer is moved.
  std::shared_ptr<const State> state_;
};

}  // namespace kprune
