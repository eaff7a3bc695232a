// The tokenizer files of a checkpoint directory: tokenizer_config.json (do_lower_case) and
// vocab.txt (one token a line, arbitrary bytes), then a tokenization with the vocabulary.
// Input: tokenizer_config.json, '\0', vocab.txt; without a '\0', vocab.txt alone.
#include "framework/tasks/tokenizer_files.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kprune;
  const std::string_view input = fuzz::as_text(data, size);
  const size_t nul = input.find('\0');
  const fuzz::InputFolder& folder = fuzz::input_folder();
  std::filesystem::remove(folder.path() / "checkpoint/tokenizer_config.json");
  if (nul != std::string_view::npos) {
    folder.write("checkpoint/tokenizer_config.json", input.substr(0, nul));
  }
  folder.write("checkpoint/vocab.txt",
               nul == std::string_view::npos ? input : input.substr(nul + 1));
  fuzz::expect_clean([&] {
    const WordPieceTokenizer tokenizer =
        load_checkpoint_tokenizer((folder.path() / "checkpoint").string());
    tokenizer.encode("Héllo, [MASK] wörld! 你好 unaffable playing", "[SEP]second text", 16);
    tokenizer.id_to_token(tokenizer.vocab_size() - 1);
  });
  return 0;
}
