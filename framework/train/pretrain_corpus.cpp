#include "framework/train/pretrain_corpus.h"

#include <sstream>

#include "framework/text/utf8.h"
#include "framework/util/error.h"
#include "framework/util/files.h"
#include "framework/util/sha256.h"

namespace kprune {
namespace {

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  const auto end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

}  // namespace

PretrainCorpus read_pretrain_corpus(const std::vector<std::string>& paths,
                                    const WordPieceTokenizer& tokenizer) {
  if (paths.empty()) fail("pretraining corpus: no files given");
  PretrainCorpus corpus;
  for (const std::string& path : paths) {
    const std::string bytes = read_file(path);
    CorpusFile file{path, sha256_hex(bytes)};
    std::istringstream lines(bytes);
    std::string line;
    for (int64_t number = 1; std::getline(lines, line); ++number) {
      try {
        decode_utf8(line);
      } catch (const Error& error) {
        fail("{}:{}: invalid UTF-8 ({})", path, number, error.what());
      }
      const std::vector<TokenPiece> pieces = tokenizer.tokenize(line);
      if (pieces.empty()) continue;
      for (const TokenPiece& piece : pieces) corpus.stream.push_back(piece.id);
      corpus.stream.push_back(tokenizer.sep_id());
      file.lines += 1;
      file.tokens += static_cast<int64_t>(pieces.size());
    }
    corpus.files.push_back(file);
  }
  if (corpus.stream.empty()) {
    fail("pretraining corpus is empty: {} file(s) hold no text", paths.size());
  }
  return corpus;
}

torch::Tensor pack_sequences(const std::vector<int64_t>& stream, int64_t seq_len, int64_t cls_id,
                             int64_t sep_id) {
  if (seq_len < 3) fail("pack_sequences: seq_len must be at least 3, got {}", seq_len);
  const int64_t body = seq_len - 2;
  const int64_t rows = static_cast<int64_t>(stream.size()) / body;
  torch::Tensor packed = torch::empty({rows, seq_len}, torch::kInt64);  // [N, T]
  auto out = packed.accessor<int64_t, 2>();
  for (int64_t r = 0; r < rows; ++r) {
    out[r][0] = cls_id;
    for (int64_t t = 0; t < body; ++t) out[r][t + 1] = stream[static_cast<size_t>(r * body + t)];
    out[r][seq_len - 1] = sep_id;
  }
  return packed;
}

std::optional<std::string> clean_wikitext_line(const std::string& line) {
  std::string text = trim(line);
  if (text.empty()) return std::nullopt;
  if (text.size() >= 3 && text.rfind("= ", 0) == 0 && text.compare(text.size() - 2, 2, " =") == 0) {
    return std::nullopt;
  }
  for (const char* joiner : {"-", ",", "."}) {
    replace_all(text, std::string(" @") + joiner + "@ ", joiner);
  }
  replace_all(text, "<unk>", "[UNK]");
  return text;
}

}  // namespace kprune
