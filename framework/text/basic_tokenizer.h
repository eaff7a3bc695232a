#pragma once
// BERT's basic tokenizer with the semantics of HF transformers 4.25.1 BertTokenizer (the Python
// implementation): special tokens split out wherever they occur in the text, text cleaning, CJK
// spacing, whitespace split, lower-casing with NFD accent stripping (uncased), punctuation split.
// Every output character remembers the original code point it came from, so that word pieces get
// character offsets.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kprune {

// The words of one text, stored flat so that tokenizing allocates per text, not per character.
struct BasicTokens {
  struct Word {
    int64_t char_begin;  // [char_begin, char_end) indexes char_byte / char_origin
    int64_t char_end;
    int special;  // index into the tokenizer's special tokens, or -1 for a normal word
  };
  std::string text;                  // the normalized words' UTF-8, concatenated
  std::vector<size_t> char_byte;     // per normalized code point its byte offset in text, plus
                                     // text.size() at the end
  std::vector<int64_t> char_origin;  // per normalized code point: the original code point index
  std::vector<Word> words;

  std::string_view word_text(const Word& word) const;
  // Bytes of normalized code points [char_begin, char_end).
  std::string_view chars_text(int64_t char_begin, int64_t char_end) const;
};

class BasicTokenizer {
 public:
  // special_tokens: strings that are never split or normalized when written in the text (HF's
  // added special tokens and never_split).
  BasicTokenizer(bool lower_case, std::vector<std::string> special_tokens);

  BasicTokens tokenize(const std::vector<char32_t>& text) const;

  bool lower_case() const { return lower_case_; }
  const std::vector<std::string>& special_tokens() const { return special_tokens_; }

 private:
  struct Scratch;
  void add_chunk(const std::vector<char32_t>& text, int64_t begin, int64_t end, Scratch& scratch,
                 BasicTokens& out) const;
  void add_word(Scratch& scratch, BasicTokens& out) const;
  // Index of the special token the word spells exactly, or -1.
  int special_index(const std::vector<char32_t>& chars) const;

  bool lower_case_;
  std::vector<std::string> special_tokens_;
};

}  // namespace kprune
