// kprune tokenize: WordPiece-tokenizes JSON lines {"a": TEXT[, "b": TEXT], ...} from stdin and
// writes each back with input_ids, token_type_ids and offsets added, other fields kept.
#include <iostream>
#include <memory>
#include <string>

#include "experiments/commands/commands.h"
#include "framework/text/tokenize_json.h"
#include "framework/text/wordpiece_tokenizer.h"

namespace kprune::cli {
namespace {

struct TokenizeArgs {
  std::string vocab;
  bool cased = false;
  int64_t max_length = 0;
};

void run_tokenize(const TokenizeArgs& args) {
  const auto tokenizer = WordPieceTokenizer::from_vocab_file(args.vocab, !args.cased);
  std::string line;
  int64_t line_number = 0;
  while (std::getline(std::cin, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::cout << tokenize_json_line(tokenizer, line, "stdin", line_number, args.max_length).dump()
              << '\n';
  }
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "tokenize", "WordPiece-tokenize JSON lines {\"a\": TEXT[, \"b\": TEXT]} from stdin");
  cmd->add_option("--vocab", args->vocab, "WordPiece vocab.txt, one token per line")->required();
  cmd->add_flag("--cased", args->cased, "Keep case and accents (cased vocabularies)");
  cmd->add_option("--max-length", args->max_length,
                  "Longest-first truncation to N tokens including [CLS]/[SEP] (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  cmd->callback([args] { run_tokenize(*args); });
}

}  // namespace kprune::cli
