#include "framework/text/utf8.h"

#include <cstdint>

#include "framework/util/error.h"

namespace kprune {

std::vector<char32_t> decode_utf8(std::string_view text) {
  std::vector<char32_t> code_points;
  code_points.reserve(text.size());
  const size_t size = text.size();
  size_t at = 0;
  while (at < size) {
    const auto lead = static_cast<unsigned char>(text[at]);
    if (lead < 0x80) {
      code_points.push_back(lead);
      ++at;
      continue;
    }
    size_t length = 0;
    char32_t code_point = 0;
    char32_t smallest = 0;  // below this the sequence is an overlong form
    if ((lead & 0xE0) == 0xC0) {
      length = 2, code_point = lead & 0x1F, smallest = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, code_point = lead & 0x0F, smallest = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, code_point = lead & 0x07, smallest = 0x10000;
    } else {
      fail("invalid UTF-8 at byte {}: byte 0x{:02x} cannot start a character", at, lead);
    }
    for (size_t k = 1; k < length; ++k) {
      if (at + k >= size) {
        fail("invalid UTF-8 at byte {}: a {}-byte character is cut off by the end of the text", at,
             length);
      }
      const auto next = static_cast<unsigned char>(text[at + k]);
      if ((next & 0xC0) != 0x80) {
        fail("invalid UTF-8 at byte {}: expected a continuation byte, found 0x{:02x}", at + k,
             next);
      }
      code_point = (code_point << 6) | (next & 0x3F);
    }
    const auto value = static_cast<uint32_t>(code_point);
    if (code_point < smallest) {
      fail("invalid UTF-8 at byte {}: overlong {}-byte form of U+{:04X}", at, length, value);
    }
    if (code_point >= 0xD800 && code_point <= 0xDFFF) {
      fail("invalid UTF-8 at byte {}: surrogate U+{:04X} is not a character", at, value);
    }
    if (code_point > 0x10FFFF) {
      fail("invalid UTF-8 at byte {}: U+{:X} is beyond U+10FFFF", at, value);
    }
    code_points.push_back(code_point);
    at += length;
  }
  return code_points;
}

void append_utf8(char32_t code_point, std::string& out) {
  const auto c = static_cast<uint32_t>(code_point);
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

}  // namespace kprune
