#include "framework/util/params.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "framework/util/error.h"

namespace kprune {

Params Params::parse(const std::vector<std::string>& items, std::string_view origin) {
  Params params;
  for (const std::string& item : items) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      fail("{}: '{}' is not of the form key=value", origin, item);
    }
    params.set(item.substr(0, eq), item.substr(eq + 1));
  }
  return params;
}

std::string Params::get_string(const std::string& key, const std::string& fallback) const {
  auto it = values_.find(key);
  return it == values_.end() ? fallback : it->second;
}

double Params::get_double(const std::string& key, double fallback) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  const std::string& text = it->second;
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE) {
    fail("parameter {}={}: expected a number", key, text);
  }
  return value;
}

int64_t Params::get_int(const std::string& key, int64_t fallback) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  const std::string& text = it->second;
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE) {
    fail("parameter {}={}: expected an integer", key, text);
  }
  return value;
}

bool Params::get_bool(const std::string& key, bool fallback) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  const std::string& text = it->second;
  if (text == "true" || text == "1" || text == "on" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "off" || text == "no") return false;
  fail("parameter {}={}: expected true or false", key, text);
}

std::string Params::get_choice(const std::string& key, const std::string& fallback,
                               const std::vector<std::string>& accepted) const {
  const std::string value = get_string(key, fallback);
  if (std::find(accepted.begin(), accepted.end(), value) == accepted.end()) {
    fail("parameter {}={}: expected {}", key, value, fmt::join(accepted, " or "));
  }
  return value;
}

void Params::check_keys(const std::vector<std::string>& accepted, std::string_view owner) const {
  for (const auto& [key, value] : values_) {
    if (std::find(accepted.begin(), accepted.end(), key) == accepted.end()) {
      fail("{} does not know the parameter '{}' (accepted: {})", owner, key,
           accepted.empty() ? std::string("none") : fmt::format("{}", fmt::join(accepted, ", ")));
    }
  }
}

std::string Params::canonical() const {
  std::string out;
  for (const auto& [key, value] : values_) {
    if (!out.empty()) out += ' ';
    out += key + '=' + value;
  }
  return out;
}

Params Params::merged(const Params& other) const {
  Params out = *this;
  for (const auto& [key, value] : other.values_) out.set(key, value);
  return out;
}

std::string canonical_number(double value) { return fmt::format("{}", value); }

}  // namespace kprune
