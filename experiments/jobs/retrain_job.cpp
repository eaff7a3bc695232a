#include "experiments/jobs/retrain_job.h"

#include <fmt/format.h>

#include <filesystem>

#include "experiments/jobs/input_checks.h"
#include "experiments/jobs/task_data.h"
#include "experiments/jobs/teacher_data.h"
#include "framework/model/device.h"
#include "framework/util/error.h"
#include "framework/util/timer.h"

namespace kprune::jobs {
namespace {

const std::string kPrefix = "pruner.";

sweep::JobResult run_retrain(const sweep::JobSpec& spec, sweep::WorkerContext& context) {
  const Params& p = spec.params;
  const std::string name = required_param(p, "method", "retrain");
  const RetrainMethod* method = find_retrain_method(name);
  if (method == nullptr || !method->train_shared) {
    fail("retrain: '{}' is not a retraining method with a shared training", name);
  }
  const TaskSpec& task = find_task(required_param(p, "task", "retrain"));
  const RetrainJobStart start =
      start_retrain_job(*method, spec, task,
                        (std::filesystem::path(context.artifacts_dir) / spec.id).string(), context);
  const RetrainInput& input = start.input;
  const TeacherData& teacher = *start.teacher;
  sweep::JobResult result;
  Stopwatch clock;
  method->train_shared(input);
  result.times["train"] = clock.seconds();
  result.attrs["checkpoint"] = input.dir;
  result.attrs["checkpoint_sha256"] = teacher.sha256;
  result.attrs["metric_name"] = task.main_metric;
  result.teacher_metrics = teacher.eval.metrics;
  return result;
}

}  // namespace

Params method_params(const RetrainMethod& method, const Params& job_params) {
  Params given;
  for (const auto& [key, value] : job_params.items()) {
    if (key.rfind(kPrefix, 0) == 0) given.set(key.substr(kPrefix.size()), value);
  }
  return retrain_params(method, given);
}

RetrainJobStart start_retrain_job(const RetrainMethod& method, const sweep::JobSpec& spec,
                                  const TaskSpec& task, const std::string& dir,
                                  sweep::WorkerContext& context) {
  const Params& p = spec.params;
  const Params params = method_params(method, p);
  configure_threads(context.threads, parse_precision(params.get_string("precision", "fp32")));
  const torch::Device device = parse_device(context.device);
  RetrainJobStart start;
  Stopwatch clock;
  start.teacher = cached_teacher_data(spec, context, required_param(p, "checkpoint", spec.kind),
                                      task, device, start.teacher_loaded);
  start.teacher_seconds = clock.seconds();
  const TeacherData& teacher = *start.teacher;
  RetrainInput& input = start.input;
  input.teacher = teacher.model.get();
  input.data = make_retrain_data(task, teacher.train, teacher.dev, teacher.seq_len,
                                 teacher.model->config().pad_token_id,
                                 params.get_int("max_train_examples", 0));
  input.params = params;
  input.seed = static_cast<uint64_t>(p.get_int("seed", 0));
  input.dir = dir;
  input.log = &context.log_stream();
  return start;
}

Params retrain_job_params(const RetrainMethod& method, const Params& prune_params) {
  Params out;
  out.set("method", method.name);
  for (const char* key : {"checkpoint", "task", "seed", "model"}) {
    if (prune_params.has(key)) out.set(key, prune_params.get_string(key, ""));
  }
  const Params shared = shared_training_params(method, method_params(method, prune_params));
  for (const auto& [key, value] : shared.items()) out.set(kPrefix + key, value);
  out.set("kind", "retrain");
  return out;
}

std::string retrain_job_dir(const RetrainMethod& method, const Params& prune_params,
                            const sweep::WorkerContext& context) {
  return (std::filesystem::path(context.artifacts_dir) /
          sweep::job_id(retrain_job_params(method, prune_params)))
      .string();
}

sweep::JobKind retrain_job_kind() {
  return {"retrain",
          {"method", "checkpoint", "task", "seed", "model", "tag", "pruner.*"},
          {"checkpoint", "task"},
          run_retrain,
          {},
          [](const sweep::JobSpec& spec, sweep::InputCheckContext& context) {
            return check_teacher_job(spec.params, "retrain", context);
          }};
}

}  // namespace kprune::jobs
