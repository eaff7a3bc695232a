// The TOML sweep file of kprune-sweep with its command-line overrides ("sweep.device=cpu").
// Input: the file, then each override after a '\0'.
#include "framework/sweep/config.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kprune;
  const auto parts = fuzz::split_at_nul(fuzz::as_text(data, size));
  const std::vector<std::string> overrides(parts.begin() + 1, parts.end());
  fuzz::expect_clean([&] { sweep::parse_config(std::string(parts[0]), "sweep.toml", overrides); });
  return 0;
}
