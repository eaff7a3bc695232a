#pragma once
// What every fuzz target shares.
//
// Clean rejection: a parser rejects bad input by throwing kprune::Error, whose message names the
// file, line or key and what was expected. Any other exception (an nlohmann::json error without
// context, std::out_of_range from .at(), std::bad_alloc from an absurd size) is left uncaught:
// std::terminate aborts, and libFuzzer records the input as a crash, like an ASan or UBSan report.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "framework/util/error.h"

namespace kprune::fuzz {

// Runs `parse`; a kprune::Error is a clean rejection, anything else escapes.
template <typename Parse>
void expect_clean(Parse&& parse) {
  try {
    parse();
  } catch (const Error&) {
  }
}

// The parsers that take a path are fed through a real file in a folder of this process,
// removed when it exits normally. /dev/shm when there is one: rewriting a file on a disk-backed
// /tmp costs milliseconds, a hundred times the parse.
class InputFolder {
 public:
  InputFolder()
      : path_((std::filesystem::is_directory("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                         : std::filesystem::temp_directory_path()) /
              ("kprune-fuzz-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~InputFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

  // Writes `bytes` to `relative` (creating its folders) and returns the file's path.
  std::string write(const std::string& relative, std::string_view bytes) const {
    const std::filesystem::path file = path_ / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return file.string();
  }

 private:
  std::filesystem::path path_;
};

inline const InputFolder& input_folder() {
  static const InputFolder folder;
  return folder;
}

// Splits `bytes` at every '\0' (the fuzz inputs of targets that take several strings).
inline std::vector<std::string_view> split_at_nul(std::string_view bytes) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t nul = bytes.find('\0', start);
    parts.push_back(bytes.substr(start, nul - start));
    if (nul == std::string_view::npos) return parts;
    start = nul + 1;
  }
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace kprune::fuzz
