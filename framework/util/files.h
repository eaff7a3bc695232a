#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kprune {

// Whole file as bytes; throws kprune::Error naming the file.
std::string read_file(const std::string& path);
// Writes via a temporary file and rename, so a crash never leaves a half-written file.
void write_file_atomic(const std::string& path, const std::string& bytes);
nlohmann::json read_json_file(const std::string& path);
// One JSON value per non-empty line; errors name the file and line.
std::vector<nlohmann::json> read_json_lines(const std::string& path);
// "device:inode:size:mtime_ns" of a file: changes when it is rewritten or another file is moved
// over it; throws when it cannot be read.
std::string file_identity(const std::string& path);

}  // namespace kprune
