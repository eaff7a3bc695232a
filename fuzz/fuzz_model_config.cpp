// A checkpoint's config.json, read into an EncoderConfig and written back.
#include <optional>

#include "framework/model/config.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kprune;
  const std::string path = fuzz::input_folder().write("config.json", fuzz::as_text(data, size));
  std::optional<EncoderConfig> config;
  fuzz::expect_clean([&] { config = EncoderConfig::from_json_file(path); });
  // A checkpoint written from an accepted config must load again: any exception here escapes.
  if (config) EncoderConfig::from_json(config->to_json(), path + " (written back)");
  return 0;
}
