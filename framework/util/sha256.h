#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace kprune {

// Lower-case hex SHA-256 of a byte string.
std::string sha256_hex(std::string_view bytes);
// Lower-case hex SHA-256 of a file's contents; throws kprune::Error naming the file.
std::string sha256_file(const std::string& path);

}  // namespace kprune
