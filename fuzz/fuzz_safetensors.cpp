// safetensors files: the 8-byte header length, the JSON header and its tensor table, the data.
// Both readers: the whole file (load) and the header alone (read_safetensors_names).
#include "framework/model/safetensors.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kprune;
  const std::string path =
      fuzz::input_folder().write("model.safetensors", fuzz::as_text(data, size));
  fuzz::expect_clean([&] { load_safetensors(path); });
  fuzz::expect_clean([&] { read_safetensors_names(path); });
  return 0;
}
