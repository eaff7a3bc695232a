#include "framework/text/basic_tokenizer.h"

#include <utf8proc.h>

#include <utility>

#include "framework/text/utf8.h"

namespace kprune {
namespace {

utf8proc_category_t category(char32_t c) {
  return static_cast<utf8proc_category_t>(utf8proc_category(static_cast<utf8proc_int32_t>(c)));
}

// HF _is_control: every C* category except tab, newline and carriage return.
bool is_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  if (c < 0x80) return c < 0x20 || c == 0x7F;
  switch (category(c)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
      return true;
    default:
      return false;
  }
}

// HF _clean_text drops these without splitting the word they are in.
bool is_removed(char32_t c) { return c == 0 || c == 0xFFFD || is_control(c); }

// HF _is_whitespace (space, tab, newline, CR, Zs), plus the line and paragraph separators that
// Python's str.split() in whitespace_tokenize also splits on (the other characters it splits on
// are controls, removed earlier).
bool is_word_separator(char32_t c) {
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return true;
  if (c < 0x80) return false;
  const auto cat = category(c);
  return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

// HF _is_chinese_char: the CJK Unified Ideographs blocks (not Hangul, Hiragana or Katakana).
bool is_cjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// HF _is_punctuation: all non-alphanumeric ASCII (so "$", "^", "`" count) plus Unicode P*.
bool is_punctuation(char32_t c) {
  if (c < 0x80) {
    return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
           (c >= 123 && c <= 126);
  }
  switch (category(c)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

// Python's str.lower() one character at a time, as HF's tokenize() applies it before anything
// else. Simple case mapping differs from Python's full mapping only for U+0130, whose extra
// combining dot the accent stripping removes anyway.
char32_t to_lower(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
  return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
}

// HF _run_strip_accents for one character: canonical decomposition (NFD) without the Mn marks.
// Decomposing character by character skips NFD's reordering of combining marks, which can only
// matter for the rare marks of category Mc.
template <typename Emit>
void strip_accents(char32_t c, Emit&& emit) {
  if (c < 0x80) {
    emit(c);
    return;
  }
  utf8proc_int32_t decomposed[16];
  int unused_boundclass = 0;
  const auto count = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), decomposed, 16,
                                             UTF8PROC_DECOMPOSE, &unused_boundclass);
  if (count < 0 || count > 16) {  // cannot happen for a valid code point; keep it unchanged
    emit(c);
    return;
  }
  for (utf8proc_ssize_t k = 0; k < count; ++k) {
    const auto part = static_cast<char32_t>(decomposed[k]);
    if (category(part) != UTF8PROC_CATEGORY_MN) emit(part);
  }
}

}  // namespace

std::string_view BasicTokens::chars_text(int64_t char_begin, int64_t char_end) const {
  const size_t begin = char_byte[static_cast<size_t>(char_begin)];
  const size_t end = char_byte[static_cast<size_t>(char_end)];
  return std::string_view(text).substr(begin, end - begin);
}

std::string_view BasicTokens::word_text(const Word& word) const {
  return chars_text(word.char_begin, word.char_end);
}

// The word being collected: cleaned (and, uncased, lower-cased) characters with their origins.
struct BasicTokenizer::Scratch {
  std::vector<char32_t> chars;
  std::vector<int64_t> origins;
};

BasicTokenizer::BasicTokenizer(bool lower_case, std::vector<std::string> special_tokens)
    : lower_case_(lower_case), special_tokens_(std::move(special_tokens)) {}

BasicTokens BasicTokenizer::tokenize(const std::vector<char32_t>& text) const {
  BasicTokens out;
  out.text.reserve(text.size());
  out.char_byte.reserve(text.size() + 1);
  out.char_origin.reserve(text.size());
  Scratch scratch;
  const auto size = static_cast<int64_t>(text.size());
  // HF splits special tokens out of the raw text first (its added-tokens trie), so "a[SEP]b" is
  // three tokens and the text between specials is tokenized on its own.
  int64_t chunk_begin = 0;
  int64_t at = 0;
  while (at < size) {
    int matched = -1;
    if (text[static_cast<size_t>(at)] == '[') {
      for (size_t s = 0; s < special_tokens_.size() && matched < 0; ++s) {
        const std::string& special = special_tokens_[s];
        const auto length = static_cast<int64_t>(special.size());
        if (at + length > size) continue;
        bool equal = true;
        for (int64_t k = 0; k < length && equal; ++k) {
          equal = text[static_cast<size_t>(at + k)] == static_cast<unsigned char>(special[k]);
        }
        if (equal) matched = static_cast<int>(s);
      }
    }
    if (matched < 0) {
      ++at;
      continue;
    }
    add_chunk(text, chunk_begin, at, scratch, out);
    const auto length = static_cast<int64_t>(special_tokens_[matched].size());
    const auto first_char = static_cast<int64_t>(out.char_origin.size());
    for (int64_t k = 0; k < length; ++k) {
      out.char_byte.push_back(out.text.size());
      out.text.push_back(special_tokens_[matched][k]);
      out.char_origin.push_back(at + k);
    }
    out.words.push_back({first_char, first_char + length, matched});
    at += length;
    chunk_begin = at;
  }
  add_chunk(text, chunk_begin, size, scratch, out);
  out.char_byte.push_back(out.text.size());
  return out;
}

void BasicTokenizer::add_chunk(const std::vector<char32_t>& text, int64_t begin, int64_t end,
                               Scratch& scratch, BasicTokens& out) const {
  for (int64_t at = begin; at < end; ++at) {
    char32_t c = text[static_cast<size_t>(at)];
    if (lower_case_) c = to_lower(c);
    if (is_removed(c)) continue;
    if (is_word_separator(c)) {
      add_word(scratch, out);
      continue;
    }
    const bool cjk = is_cjk(c);
    if (cjk) add_word(scratch, out);
    scratch.chars.push_back(c);
    scratch.origins.push_back(at);
    if (cjk) add_word(scratch, out);
  }
  add_word(scratch, out);
}

int BasicTokenizer::special_index(const std::vector<char32_t>& chars) const {
  if (chars.empty() || chars.front() != '[') return -1;
  for (size_t s = 0; s < special_tokens_.size(); ++s) {
    const std::string& special = special_tokens_[s];
    if (special.size() != chars.size()) continue;
    bool equal = true;
    for (size_t k = 0; k < chars.size() && equal; ++k) {
      equal = chars[k] == static_cast<unsigned char>(special[k]);
    }
    if (equal) return static_cast<int>(s);
  }
  return -1;
}

void BasicTokenizer::add_word(Scratch& scratch, BasicTokens& out) const {
  if (scratch.chars.empty()) return;
  auto token_begin = static_cast<int64_t>(out.char_origin.size());
  auto close_token = [&] {
    const auto token_end = static_cast<int64_t>(out.char_origin.size());
    if (token_end > token_begin) out.words.push_back({token_begin, token_end, -1});
    token_begin = token_end;
  };
  // A special token that only became whole after cleaning (e.g. "[SE\u200bP]" in cased mode) is
  // kept, as HF's never_split does.
  const int special = special_index(scratch.chars);
  for (size_t k = 0; k < scratch.chars.size(); ++k) {
    const int64_t origin = scratch.origins[k];
    auto emit = [&](char32_t c) {
      const bool punctuation = special < 0 && is_punctuation(c);
      if (punctuation) close_token();
      out.char_byte.push_back(out.text.size());
      append_utf8(c, out.text);
      out.char_origin.push_back(origin);
      if (punctuation) close_token();
    };
    if (lower_case_ && special < 0) {
      strip_accents(scratch.chars[k], emit);
    } else {
      emit(scratch.chars[k]);
    }
  }
  close_token();
  if (special >= 0) out.words.back().special = special;
  scratch.chars.clear();
  scratch.origins.clear();
}

}  // namespace kprune
