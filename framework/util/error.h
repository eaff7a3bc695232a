#pragma once
// Errors a user can cause carry their context (file, line, key, tensor name, expected vs
// found) in the message itself, so one line tells what to fix.
#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace kprune {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace kprune
