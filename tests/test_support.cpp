#include "tests/test_support.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <stdexcept>

namespace kprune::testing {

std::string shared_path(const std::string& relative) {
  const char* env = std::getenv("KPRUNE_SHARED_DIR");
  const std::filesystem::path root = env != nullptr ? env : KPRUNE_SHARED_DIR;
  const std::filesystem::path path = root / relative;
  if (!std::filesystem::exists(path)) {
    ADD_FAILURE() << "shared data missing: " << path
                  << " (tests read ../shared beside the checkout, or set KPRUNE_SHARED_DIR)";
    throw std::runtime_error("shared data missing: " + path.string());
  }
  return path.string();
}

std::string temp_dir(const std::string& prefix) {
  static std::atomic<int> counter{0};
  const auto path =
      std::filesystem::temp_directory_path() /
      ("kprune-" + prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  return path.string();
}

}  // namespace kprune::testing
