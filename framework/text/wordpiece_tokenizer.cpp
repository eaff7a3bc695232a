#include "framework/text/wordpiece_tokenizer.h"

#include <algorithm>
#include <array>
#include <unordered_map>

#include "framework/text/basic_tokenizer.h"
#include "framework/text/utf8.h"
#include "framework/util/error.h"
#include "framework/util/files.h"

namespace kprune {
namespace {

// HF BertTokenizer's max_input_chars_per_word.
constexpr int64_t kMaxWordChars = 100;
constexpr std::string_view kContinuationPrefix = "##";

// The special tokens HF never splits when written in the text (in any order: none is a prefix of
// another).
const std::array<std::string, 5>& special_token_names() {
  static const std::array<std::string, 5> names = {"[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"};
  return names;
}

}  // namespace

struct WordPieceTokenizer::State {
  std::string path;
  std::vector<std::string> tokens;
  std::unordered_map<std::string_view, int64_t> ids;  // whole tokens
  // Tokens starting with "##", keyed by the rest, so that a piece inside a word is looked up
  // without building "##" + piece.
  std::unordered_map<std::string_view, int64_t> continuation_ids;
  size_t longest_token_bytes = 0;
  std::vector<int64_t> special_ids;  // per special_token_names() entry, unk when absent
  int64_t unk = -1, cls = -1, sep = -1, pad = -1, mask = -1;
  BasicTokenizer basic;

  State(std::string vocab_path, std::vector<std::string> vocab_tokens, bool lower_case);
  int64_t lookup(std::string_view token) const;
  void add_word_pieces(const BasicTokens& words, const BasicTokens::Word& word,
                       std::vector<TokenPiece>& pieces) const;
};

WordPieceTokenizer::State::State(std::string vocab_path, std::vector<std::string> vocab_tokens,
                                 bool lower_case)
    : path(std::move(vocab_path)),
      tokens(std::move(vocab_tokens)),
      basic(lower_case, {special_token_names().begin(), special_token_names().end()}) {
  // Keys view into `tokens`, which is never resized after this point.
  ids.reserve(tokens.size());
  for (size_t id = 0; id < tokens.size(); ++id) {
    const std::string_view token = tokens[id];
    ids.emplace(token, static_cast<int64_t>(id));
    longest_token_bytes = std::max(longest_token_bytes, token.size());
    if (token.size() > kContinuationPrefix.size() &&
        token.substr(0, kContinuationPrefix.size()) == kContinuationPrefix) {
      continuation_ids.emplace(token.substr(kContinuationPrefix.size()), static_cast<int64_t>(id));
    }
  }
  auto required = [&](std::string_view name) {
    const auto found = ids.find(name);
    if (found == ids.end()) {
      fail("{}: the vocabulary ({} tokens) has no {} token", path, tokens.size(), name);
    }
    return found->second;
  };
  unk = required("[UNK]");
  cls = required("[CLS]");
  sep = required("[SEP]");
  pad = required("[PAD]");
  const auto found_mask = ids.find("[MASK]");
  if (found_mask != ids.end()) mask = found_mask->second;
  for (const auto& name : special_token_names()) special_ids.push_back(lookup(name));
}

int64_t WordPieceTokenizer::State::lookup(std::string_view token) const {
  const auto found = ids.find(token);
  return found == ids.end() ? unk : found->second;
}

// HF WordpieceTokenizer: greedy longest match from the left, "##" on pieces after the first.
void WordPieceTokenizer::State::add_word_pieces(const BasicTokens& words,
                                                const BasicTokens::Word& word,
                                                std::vector<TokenPiece>& pieces) const {
  const auto& origin = words.char_origin;
  auto covering = [&](int64_t char_begin, int64_t char_end, int64_t id) {
    return TokenPiece{id, origin[static_cast<size_t>(char_begin)],
                      origin[static_cast<size_t>(char_end - 1)] + 1};
  };
  if (word.char_end - word.char_begin > kMaxWordChars) {
    pieces.push_back(covering(word.char_begin, word.char_end, unk));
    return;
  }
  const size_t first_piece = pieces.size();
  for (int64_t start = word.char_begin; start < word.char_end;) {
    const auto& map = start == word.char_begin ? ids : continuation_ids;
    int64_t id = -1;
    int64_t end = word.char_end;
    for (; end > start; --end) {
      const std::string_view piece = words.chars_text(start, end);
      if (piece.size() > longest_token_bytes) continue;
      const auto found = map.find(piece);
      if (found != map.end()) {
        id = found->second;
        break;
      }
    }
    if (id < 0) {
      pieces.resize(first_piece);
      pieces.push_back(covering(word.char_begin, word.char_end, unk));
      return;
    }
    pieces.push_back(covering(start, end, id));
    start = end;
  }
}

WordPieceTokenizer::WordPieceTokenizer(std::shared_ptr<const State> state)
    : state_(std::move(state)) {}

WordPieceTokenizer WordPieceTokenizer::from_vocab_file(const std::string& path, bool lower_case) {
  const std::string bytes = read_file(path);
  std::vector<std::string> tokens;
  std::unordered_map<std::string, int64_t> first_line;
  size_t line_begin = 0;
  int64_t line_number = 0;
  while (line_begin < bytes.size()) {
    ++line_number;
    size_t line_end = bytes.find('\n', line_begin);
    if (line_end == std::string::npos) line_end = bytes.size();
    std::string token = bytes.substr(line_begin, line_end - line_begin);
    line_begin = line_end + 1;
    if (!token.empty() && token.back() == '\r') token.pop_back();  // a file saved with CRLF
    if (token.empty()) fail("{}:{}: empty line (each line must hold one token)", path, line_number);
    try {
      decode_utf8(token);
    } catch (const Error& e) {
      fail("{}:{}: {}", path, line_number, e.what());
    }
    const auto [seen, inserted] = first_line.emplace(token, line_number);
    if (!inserted) {
      fail("{}:{}: duplicate token \"{}\" (first on line {})", path, line_number, token,
           seen->second);
    }
    tokens.push_back(std::move(token));
  }
  if (tokens.empty()) fail("{}: empty vocabulary", path);
  return WordPieceTokenizer(std::make_shared<const State>(path, std::move(tokens), lower_case));
}

std::vector<TokenPiece> WordPieceTokenizer::tokenize(std::string_view text) const {
  const BasicTokens words = state_->basic.tokenize(decode_utf8(text));
  std::vector<TokenPiece> pieces;
  pieces.reserve(words.words.size() + words.words.size() / 2);
  for (const auto& word : words.words) {
    if (word.special >= 0) {
      pieces.push_back({state_->special_ids[static_cast<size_t>(word.special)],
                        words.char_origin[static_cast<size_t>(word.char_begin)],
                        words.char_origin[static_cast<size_t>(word.char_end - 1)] + 1});
    } else {
      state_->add_word_pieces(words, word, pieces);
    }
  }
  return pieces;
}

Encoding WordPieceTokenizer::encode(std::string_view a, std::optional<std::string_view> b,
                                    int64_t max_length) const {
  std::vector<TokenPiece> pieces_a = tokenize(a);
  std::vector<TokenPiece> pieces_b;
  if (b) pieces_b = tokenize(*b);
  const int64_t special_count = b ? 3 : 2;
  if (max_length < 0) fail("max_length must be 0 (no truncation) or positive, got {}", max_length);
  if (max_length > 0) {
    if (max_length < special_count) {
      fail("max_length {} leaves no room for the {} special tokens of a {}", max_length,
           special_count, b ? "pair" : "single text");
    }
    // HF longest_first; for a single text HF refuses (and only logs) when the whole text would
    // have to go, here the text is then emptied so that max_length always holds.
    auto excess =
        static_cast<int64_t>(pieces_a.size() + pieces_b.size()) + special_count - max_length;
    for (; excess > 0; --excess) {
      if (!b || pieces_a.size() > pieces_b.size()) {
        pieces_a.pop_back();
      } else {
        pieces_b.pop_back();
      }
    }
  }
  Encoding encoding;
  const size_t total = pieces_a.size() + pieces_b.size() + static_cast<size_t>(special_count);
  encoding.input_ids.reserve(total);
  encoding.token_type_ids.reserve(total);
  encoding.offsets.reserve(total);
  encoding.sequence_ids.reserve(total);
  auto add = [&](int64_t id, int64_t type, std::pair<int64_t, int64_t> offset, int sequence) {
    encoding.input_ids.push_back(id);
    encoding.token_type_ids.push_back(type);
    encoding.offsets.push_back(offset);
    encoding.sequence_ids.push_back(sequence);
  };
  auto add_text = [&](const std::vector<TokenPiece>& pieces, int sequence) {
    for (const auto& piece : pieces) add(piece.id, sequence, {piece.begin, piece.end}, sequence);
    add(state_->sep, sequence, {0, 0}, -1);
  };
  add(state_->cls, 0, {0, 0}, -1);
  add_text(pieces_a, 0);
  if (b) add_text(pieces_b, 1);
  return encoding;
}

int64_t WordPieceTokenizer::token_to_id(std::string_view token) const {
  return state_->lookup(token);
}

const std::string& WordPieceTokenizer::id_to_token(int64_t id) const {
  if (id < 0 || id >= vocab_size()) {
    fail("token id {} is outside the vocabulary of {} tokens ({})", id, vocab_size(), state_->path);
  }
  return state_->tokens[static_cast<size_t>(id)];
}

int64_t WordPieceTokenizer::vocab_size() const {
  return static_cast<int64_t>(state_->tokens.size());
}

int64_t WordPieceTokenizer::pad_id() const { return state_->pad; }
int64_t WordPieceTokenizer::cls_id() const { return state_->cls; }
int64_t WordPieceTokenizer::sep_id() const { return state_->sep; }
int64_t WordPieceTokenizer::unk_id() const { return state_->unk; }

int64_t WordPieceTokenizer::mask_id() const {
  if (state_->mask < 0) fail("{}: the vocabulary has no [MASK] token", state_->path);
  return state_->mask;
}

bool WordPieceTokenizer::lower_case() const { return state_->basic.lower_case(); }

}  // namespace kprune
