// The WordPiece tokenizer on arbitrary text (invalid UTF-8 included), both as the library call
// (encode) and as a line of `kprune tokenize` (JSON in, JSON out).
// Input: one flag byte (bit 0: lower-case, bit 1: a second text, bits 2-7: max_length, 0 = no
// truncation), then text a, '\0', text b.
#include "framework/text/tokenize_json.h"
#include "framework/text/utf8.h"
#include "framework/text/wordpiece_tokenizer.h"
#include "fuzz/fuzz_support.h"

namespace {

// A small vocabulary that still has every kind of entry: specials, whole words, "##" pieces,
// accented, CJK and punctuation tokens.
constexpr const char* kVocab =
    "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\na\nplay\n##ing\n##s\n##ed\nun\n##aff\n##able\n"
    "caf\n##e\ncafé\nhello\nworld\n,\n.\n!\n?\n'\n\"\n##\n#\n你\n好\n##好\nü\n##ü\nх\n##ой\n1\n##"
    "1\n";

const kprune::WordPieceTokenizer& tokenizer(bool lower_case) {
  static const std::string path = kprune::fuzz::input_folder().write("vocab.txt", kVocab);
  static const auto lower = kprune::WordPieceTokenizer::from_vocab_file(path, true);
  static const auto cased = kprune::WordPieceTokenizer::from_vocab_file(path, false);
  return lower_case ? lower : cased;
}

// Offsets index the code points of the text a piece came from.
void check_offsets(const kprune::Encoding& encoding, int64_t length_a, int64_t length_b) {
  for (size_t i = 0; i < encoding.offsets.size(); ++i) {
    const int sequence = encoding.sequence_ids[i];
    if (sequence < 0) continue;
    const auto [begin, end] = encoding.offsets[i];
    if (begin < 0 || begin >= end || end > (sequence == 0 ? length_a : length_b)) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kprune;
  if (size < 1) return 0;
  const bool lower_case = (data[0] & 1) != 0;
  const bool pair = (data[0] & 2) != 0;
  const int64_t max_length = data[0] >> 2;
  const std::string_view rest = fuzz::as_text(data + 1, size - 1);
  const size_t nul = rest.find('\0');
  const std::string_view a = rest.substr(0, nul);
  const std::optional<std::string_view> b =
      pair && nul != std::string_view::npos ? std::optional(rest.substr(nul + 1)) : std::nullopt;
  const WordPieceTokenizer& words = tokenizer(lower_case);
  fuzz::expect_clean([&] {
    const Encoding encoding = words.encode(a, b, max_length);
    check_offsets(encoding, static_cast<int64_t>(decode_utf8(a).size()),
                  b ? static_cast<int64_t>(decode_utf8(*b).size()) : 0);
  });
  fuzz::expect_clean([&] { tokenize_json_line(words, rest, "stdin", 1, max_length); });
  return 0;
}
