#pragma once
// `retrain`: the training that every FLOPs target of a retraining method shares (DynaBERT's two
// stages), into <artifacts>/<job id>; the prune jobs of that method read it from there. The
// sweep adds it itself for each prune job with such a method (JobKind::prerequisites), once per
// teacher, seed and training parameters. Parameters: method, checkpoint, task, seed, model,
// tag, pruner.<key> (the method's, without the per-target ones).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "experiments/jobs/teacher_data.h"
#include "framework/retrain/retrain_method.h"
#include "framework/sweep/job.h"

namespace kprune::jobs {

sweep::JobKind retrain_job_kind();

// The parameters of the shared-training job that a prune job with `method` needs.
Params retrain_job_params(const RetrainMethod& method, const Params& prune_params);

// Where that job trains: <artifacts>/<its job id>.
std::string retrain_job_dir(const RetrainMethod& method, const Params& prune_params,
                            const sweep::WorkerContext& context);

// The method's own parameters from a job's pruner.<key> parameters: checked, defaults filled.
Params method_params(const RetrainMethod& method, const Params& job_params);

// What a job running `method` starts from: threads for the method's precision, the worker's
// teacher with its task data (loaded once per cache key), and the method's input, working in
// `dir`, with the job's seed and log.
struct RetrainJobStart {
  std::shared_ptr<TeacherData> teacher;
  bool teacher_loaded = false;  // a cache miss
  double teacher_seconds = 0;
  RetrainInput input;
};
RetrainJobStart start_retrain_job(const RetrainMethod& method, const sweep::JobSpec& spec,
                                  const TaskSpec& task, const std::string& dir,
                                  sweep::WorkerContext& context);

}  // namespace kprune::jobs
