#pragma once
// Paths to ../shared for tests. A test that needs shared data fails loudly when it is missing.
#include <string>

namespace kprune::testing {

// Absolute path of shared/<relative>; fails the test (ADD_FAILURE + throw) when absent.
std::string shared_path(const std::string& relative);
// A fresh empty directory under the system temp dir, unique per call.
std::string temp_dir(const std::string& prefix);

}  // namespace kprune::testing
