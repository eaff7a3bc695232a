#include "experiments/jobs/task_data.h"

#include <unistd.h>

#include <filesystem>

#include "framework/tasks/synthetic.h"
#include "framework/util/error.h"

namespace kprune::jobs {
namespace {

namespace fs = std::filesystem;

std::string family_of(const TaskSpec& task) {
  if (task.head_kind == HeadKind::question_answering) return "squad";
  if (task.name == "synthetic") return "synthetic";
  return "glue";
}

// Written beside `dir` and moved into place, so that ranks racing on it never see half a file.
void ensure_synthetic_data(const std::string& dir) {
  if (fs::exists(fs::path(dir) / "synthetic" / "dev.tsv")) return;
  const std::string partial = dir + ".partial-" + std::to_string(getpid());
  write_synthetic_task(partial, 0, 8000, 1000);
  fs::create_directories(dir);
  fs::rename(fs::path(partial) / "vocab.txt", fs::path(dir) / "vocab.txt");
  std::error_code taken;  // another rank moved the same bytes in first
  fs::rename(fs::path(partial) / "synthetic", fs::path(dir) / "synthetic", taken);
  fs::remove_all(partial);
}

}  // namespace

std::string task_data_dir(const TaskSpec& task, const sweep::WorkerContext& context) {
  const std::string family = family_of(task);
  std::string dir;
  for (const std::string& key : {task.name, family}) {
    auto it = context.data_dirs.find(key);
    if (it != context.data_dirs.end()) {
      dir = it->second;
      break;
    }
  }
  if (dir.empty()) {
    if (family == "synthetic") {
      dir = (fs::path(context.artifacts_dir) / "data").string();
    } else {
      dir = "../shared/data/" + family;
    }
  }
  if (family == "synthetic") ensure_synthetic_data(dir);
  return dir;
}

std::string random_init_vocab(const std::string& data_dir, const sweep::WorkerContext& context) {
  const fs::path own = fs::path(data_dir) / "vocab.txt";
  if (fs::exists(own)) return own.string();
  auto it = context.data_dirs.find("vocab");
  return it != context.data_dirs.end() ? it->second
                                       : "../shared/data/vocab/bert-base-uncased-vocab.txt";
}

std::string required_param(const Params& params, const std::string& key, const std::string& kind) {
  if (!params.has(key))
    fail("{} job: parameter {} is required (got: {})", kind, key, params.canonical());
  return params.get_string(key, "");
}

}  // namespace kprune::jobs
