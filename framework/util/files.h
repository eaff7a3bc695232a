#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kprune {

// Whole file as bytes; throws kprune::Error naming the file.
std::string read_file(const std::string& path);
// Writes via a temporary file and rename, so a crash never leaves a half-written file.
void write_file_atomic(const std::string& path, const std::string& bytes);
nlohmann::json read_json_file(const std::string& path);
// One JSON value per non-empty line; errors name the file and line.
std::vector<nlohmann::json> read_json_lines(const std::string& path);

}  // namespace kprune
