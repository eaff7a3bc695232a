// SQuAD v1.1 / v2.0 JSON files.
#include "framework/tasks/squad_data.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kprune;
  const std::string path = fuzz::input_folder().write("dev.json", fuzz::as_text(data, size));
  fuzz::expect_clean([&] { read_squad_file(path); });
  return 0;
}
