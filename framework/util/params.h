#pragma once
// The one currency for parameters: canonical `key=value` strings, shared by CLI overrides,
// the dry-run listing, job ids and HDF5 attributes. Keys are kept sorted, so the canonical
// form does not depend on the order in which parameters were given.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kprune {

class Params {
 public:
  Params() = default;
  // Parses "key=value" items; `origin` names where they came from for error messages.
  static Params parse(const std::vector<std::string>& items,
                      std::string_view origin = "parameters");

  void set(const std::string& key, const std::string& value) { values_[key] = value; }
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  const std::map<std::string, std::string>& items() const { return values_; }
  bool empty() const { return values_.empty(); }

  // Typed getters: the default is returned for absent keys; a malformed value throws
  // kprune::Error naming the key, the value and the expected type.
  std::string get_string(const std::string& key, const std::string& fallback) const;
  double get_double(const std::string& key, double fallback) const;
  int64_t get_int(const std::string& key, int64_t fallback) const;
  bool get_bool(const std::string& key, bool fallback) const;
  // One of `accepted` (e.g. "ref" or "clean"); anything else throws naming the choices.
  std::string get_choice(const std::string& key, const std::string& fallback,
                         const std::vector<std::string>& accepted) const;

  // Throws kprune::Error if a key is not in `accepted`, naming the accepted keys.
  void check_keys(const std::vector<std::string>& accepted, std::string_view owner) const;

  // "a=1 b=x" with keys sorted.
  std::string canonical() const;
  // Parameters of `other` override ours.
  Params merged(const Params& other) const;

 private:
  std::map<std::string, std::string> values_;
};

// Canonical text of a number: shortest round-trip form ("0.5", "1e-05" -> "1e-05").
std::string canonical_number(double value);

}  // namespace kprune
