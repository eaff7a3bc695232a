// vocab.txt of a checkpoint (one token a line, arbitrary bytes), then a tokenization with it.
// Input: one flag byte (bit 0: lower-case), then the file.
#include "framework/text/wordpiece_tokenizer.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kprune;
  if (size < 1) return 0;
  const bool lower_case = (data[0] & 1) != 0;
  const std::string path =
      fuzz::input_folder().write("vocab.txt", fuzz::as_text(data + 1, size - 1));
  fuzz::expect_clean([&] {
    const WordPieceTokenizer tokenizer = WordPieceTokenizer::from_vocab_file(path, lower_case);
    tokenizer.encode("Héllo, [MASK] wörld! 你好 unaffable playing", "[SEP]second text", 16);
    tokenizer.id_to_token(tokenizer.vocab_size() - 1);
  });
  return 0;
}
