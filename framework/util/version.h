#pragma once
#include <string>

namespace kprune {

// "0.1.0 (git abc1234)" — stored with every result and teacher.
std::string code_version();

}  // namespace kprune
