#pragma once
// The line transform of `kprune tokenize`: {"a": TEXT[, "b": TEXT], ...} in, the same object
// (other fields kept, in order) plus input_ids, token_type_ids and offsets ([[begin, end], ...])
// out.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "framework/text/wordpiece_tokenizer.h"

namespace kprune {

// Errors name `source` and `line_number` (a malformed line, a missing or non-string "a", a
// non-string "b", invalid text). max_length 0 = no truncation.
nlohmann::ordered_json tokenize_json_line(const WordPieceTokenizer& tokenizer,
                                          std::string_view line, const std::string& source,
                                          int64_t line_number, int64_t max_length);

}  // namespace kprune
