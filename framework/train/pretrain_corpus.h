#pragma once
// Text for masked-language-model pretraining: plain-text files with one document or sentence
// per line, tokenized into one stream and packed into full-length sequences.
#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "framework/text/wordpiece_tokenizer.h"

namespace kprune {

struct CorpusFile {
  std::string path;
  std::string sha256;
  int64_t lines = 0;   // non-empty lines
  int64_t tokens = 0;  // word pieces, separators not counted
};

struct PretrainCorpus {
  // Every non-empty line's word pieces, each line followed by [SEP] (a boundary the model sees,
  // as between the two texts of a GLUE pair).
  std::vector<int64_t> stream;
  std::vector<CorpusFile> files;
};

// Errors name the file (and file:line for invalid UTF-8); a corpus without any token is an
// error too.
PretrainCorpus read_pretrain_corpus(const std::vector<std::string>& paths,
                                    const WordPieceTokenizer& tokenizer);

// [CLS] + seq_len - 2 stream tokens + [SEP] per row, consecutive and non-overlapping; the tail
// that does not fill a row is dropped. Returns [N, seq_len] int64.
torch::Tensor pack_sequences(const std::vector<int64_t>& stream, int64_t seq_len, int64_t cls_id,
                             int64_t sep_id);

// One line of the tokenised WikiText release as plain text: headings (" = Title = ") and
// blank lines give nullopt; " @-@ ", " @,@ ", " @.@ " become "-", ",", "."; "<unk>" becomes
// "[UNK]" (kept whole by the tokenizer); surrounding whitespace is trimmed.
std::optional<std::string> clean_wikitext_line(const std::string& line);

}  // namespace kprune
