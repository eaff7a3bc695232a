#include "experiments/jobs/task_data.h"

#include <unistd.h>

#include <filesystem>

#include "framework/tasks/squad_synthetic.h"
#include "framework/tasks/squad_task.h"
#include "framework/tasks/synthetic.h"
#include "framework/util/error.h"

namespace kprune::jobs {
namespace {

namespace fs = std::filesystem;

// The [data] key that points the QA tasks at synthetic SQuAD data.
constexpr const char* kSyntheticSquadKey = "synthetic_squad";

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

// The sizes of the README's mini QA teacher; every file is written atomically, so ranks racing
// on it write the same bytes.
void ensure_synthetic_squad_data(const TaskSpec& task, const std::string& dir) {
  if (fs::exists(squad_split_path(task, dir, task.dev_split))) return;
  SquadSyntheticOptions options;
  options.version_2 = task.name == "squad_v2";
  write_synthetic_squad(dir, 0, 2000, 250, options);
}

}  // namespace

TaskDataLocation locate_task_data(const TaskSpec& task,
                                  const std::map<std::string, std::string>& data_dirs,
                                  const std::string& artifacts_dir) {
  const std::string& family = task.data_family;
  for (const std::string& key : {task.name, family}) {
    auto it = data_dirs.find(key);
    if (it != data_dirs.end()) return {it->second, key, family == "synthetic"};
  }
  auto synthetic_squad = data_dirs.find(kSyntheticSquadKey);
  if (family == "squad" && synthetic_squad != data_dirs.end()) {
    return {synthetic_squad->second.empty() ? (fs::path(artifacts_dir) / "data-squad").string()
                                            : synthetic_squad->second,
            kSyntheticSquadKey, true};
  }
  if (family == "synthetic") return {(fs::path(artifacts_dir) / "data").string(), family, true};
  return {default_data_dir(task), family, false};
}

std::string task_data_dir(const TaskSpec& task, const sweep::WorkerContext& context) {
  const TaskDataLocation location =
      locate_task_data(task, context.data_dirs, context.artifacts_dir);
  if (location.data_key == kSyntheticSquadKey) ensure_synthetic_squad_data(task, location.dir);
  if (task.data_family == "synthetic") ensure_synthetic_data(location.dir);
  return location.dir;
}

std::string random_init_vocab(const std::string& data_dir,
                              const std::map<std::string, std::string>& data_dirs) {
  const fs::path own = fs::path(data_dir) / "vocab.txt";
  return fs::exists(own) ? own.string() : default_vocab(data_dirs);
}

std::string default_vocab(const std::map<std::string, std::string>& data_dirs) {
  auto it = data_dirs.find("vocab");
  return it != data_dirs.end() ? it->second : "../shared/data/vocab/bert-base-uncased-vocab.txt";
}

std::string required_param(const Params& params, const std::string& key, const std::string& kind) {
  if (!params.has(key))
    fail("{} job: parameter {} is required (got: {})", kind, key, params.canonical());
  return params.get_string(key, "");
}

}  // namespace kprune::jobs
