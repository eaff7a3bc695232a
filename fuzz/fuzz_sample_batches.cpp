// The `kprune prune --sample-batches` JSON lines file, one padded batch a line.
// Input: a head byte (classification, regression, question answering), then the file.
#include "framework/prune/sample_batches.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kprune;
  if (size < 1) return 0;
  const HeadKind kinds[] = {HeadKind::classification, HeadKind::regression,
                            HeadKind::question_answering};
  const HeadKind head_kind = kinds[data[0] % 3];
  const std::string path =
      fuzz::input_folder().write("batches.jsonl", fuzz::as_text(data + 1, size - 1));
  fuzz::expect_clean([&] { read_sample_batches(path, head_kind); });
  return 0;
}
