#pragma once
// The tokenizer that belongs to a checkpoint directory.
#include <string>

#include "framework/text/wordpiece_tokenizer.h"

namespace kprune {

// DIR/vocab.txt, lower-cased unless DIR/tokenizer_config.json says "do_lower_case": false
// (HF's default is true, so a missing file or key means lower-casing).
WordPieceTokenizer load_checkpoint_tokenizer(const std::string& dir);

}  // namespace kprune
