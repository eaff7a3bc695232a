#pragma once
// Where a job finds a task's data: the sweep's [data] table (not part of job ids, so moving the
// data resumes the same jobs), with the CLI's defaults.
#include <map>
#include <string>

#include "framework/sweep/job.h"
#include "framework/tasks/task.h"
#include "framework/util/params.h"

namespace kprune::jobs {

// The [data] entry named like the task (`sst2`), else its family's (`glue`, `squad`,
// `synthetic`), else for QA tasks the entry `synthetic_squad` (a folder, or "" for
// <artifacts>/data-squad), else ../shared/data/glue, ../shared/data/squad or <artifacts>/data.
// The synthetic task is written there when missing (seed 0, 8000 train / 1000 dev, the bytes of
// `kprune make-synthetic`), and so is synthetic SQuAD data for `synthetic_squad` (seed 0, 2000
// train / 250 dev paragraphs, the bytes of `kprune make-synthetic --task squad|squad_v2 --train
// 2000 --dev 250`), so a sweep on either needs no preparation.
std::string task_data_dir(const TaskSpec& task, const sweep::WorkerContext& context);

// Where task_data_dir() looks, without writing anything.
struct TaskDataLocation {
  std::string dir;
  std::string data_key;    // the [data] key that gave it (or would: the default's family key)
  bool generated = false;  // synthetic data, written on first use
};
TaskDataLocation locate_task_data(const TaskSpec& task,
                                  const std::map<std::string, std::string>& data_dirs,
                                  const std::string& artifacts_dir);

// The vocab of a model trained from random init on data in `data_dir`: its vocab.txt when it
// has one (the synthetic task), else the [data] entry `vocab`, else bert-base-uncased's.
std::string random_init_vocab(const std::string& data_dir,
                              const std::map<std::string, std::string>& data_dirs);

// The [data] entry `vocab`, else bert-base-uncased's under ../shared/data.
std::string default_vocab(const std::map<std::string, std::string>& data_dirs);

// A parameter the job cannot run without; throws naming the job kind.
std::string required_param(const Params& params, const std::string& key, const std::string& kind);

}  // namespace kprune::jobs
