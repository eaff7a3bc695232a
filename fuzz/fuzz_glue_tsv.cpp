// GLUE TSV files of every task and split, read through the task's own reader.
// Input: a task byte (index into glue_task_specs()), a split byte (bit 0: skip malformed rows;
// the rest: index into the task's splits), then the file.
#include <spdlog/spdlog.h>

#include "framework/tasks/glue.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // the skip policy warns once per skipped row
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kprune;
  static const std::vector<TaskSpec> tasks = glue_task_specs();
  if (size < 2) return 0;
  const TaskSpec& task = tasks[data[0] % tasks.size()];
  const std::string& split = task.splits[(data[1] >> 1) % task.splits.size()];
  ReadOptions options;
  options.malformed_rows = (data[1] & 1) != 0 ? MalformedRows::skip : MalformedRows::error;
  const std::string data_dir = (fuzz::input_folder().path() / "glue").string();
  fuzz::input_folder().write("glue/" + task.dir_name + "/" + split + task.file_extension,
                             fuzz::as_text(data + 2, size - 2));
  fuzz::expect_clean([&] { read_split(task, data_dir, split, options); });
  return 0;
}
