#pragma once
// UTF-8 <-> code points. Invalid input is an error, never guessed at: a tokenizer offset is a
// code point index, and replacing bytes would silently shift every offset after them.
#include <string>
#include <string_view>
#include <vector>

namespace kprune {

// Throws kprune::Error naming the byte offset and the problem (a stray continuation byte, a cut-off
// sequence, an overlong form, a surrogate, a value beyond U+10FFFF).
std::vector<char32_t> decode_utf8(std::string_view text);

void append_utf8(char32_t code_point, std::string& out);

}  // namespace kprune
