#include "experiments/jobs/prune_job.h"

#include <fmt/format.h>

#include <filesystem>
#include <functional>
#include <memory>

#include "experiments/jobs/input_checks.h"
#include "experiments/jobs/retrain_job.h"
#include "experiments/jobs/task_data.h"
#include "experiments/jobs/teacher_data.h"
#include "framework/model/device.h"
#include "framework/prune/task_pruning.h"
#include "framework/retrain/retrain_method.h"
#include "framework/util/error.h"
#include "framework/util/timer.h"

namespace kprune::jobs {
namespace {

// [rows][columns] as a float32 dataset; the rows of a mask matrix all have the original width.
sweep::NumericDataset matrix_dataset(const std::vector<std::vector<float>>& rows,
                                     const std::string& name) {
  sweep::NumericDataset out;
  out.type = sweep::NumericDataset::Type::kFloat32;
  const size_t width = rows.empty() ? 0 : rows.front().size();
  out.shape = {static_cast<int64_t>(rows.size()), static_cast<int64_t>(width)};
  for (const auto& row : rows) {
    if (row.size() != width) fail("{}: ragged rows ({} and {} entries)", name, width, row.size());
    out.reals.insert(out.reals.end(), row.begin(), row.end());
  }
  return out;
}

void add_sublayer_datasets(const PruneReport& report, sweep::JobResult& result) {
  sweep::NumericDataset seconds;
  seconds.type = sweep::NumericDataset::Type::kFloat64;
  seconds.shape = {static_cast<int64_t>(report.sublayers.size()), 3};
  sweep::NumericDataset kept;
  kept.type = sweep::NumericDataset::Type::kInt64;
  kept.shape = {static_cast<int64_t>(report.sublayers.size())};
  for (const SublayerReport& s : report.sublayers) {
    seconds.reals.insert(seconds.reals.end(),
                         {s.measure_seconds, s.search_seconds, s.tune_seconds});
    kept.integers.push_back(s.kept);
    result.times["measure"] += s.measure_seconds;
    result.times["search"] += s.search_seconds;
    result.times["tune"] += s.tune_seconds;
  }
  result.datasets["sublayer_seconds"] = std::move(seconds);
  result.datasets["sublayer_kept"] = std::move(kept);
}

// pruner.<key> parameters of the job, without the prefix; the job's seed seeds a pruner that
// takes one (random) unless the grid sets pruner.seed.
Params pruner_params(const Params& params, const PrunerInfo& info) {
  Params out;
  const std::string prefix = "pruner.";
  for (const auto& [key, value] : params.items()) {
    if (key.rfind(prefix, 0) == 0) out.set(key.substr(prefix.size()), value);
  }
  for (const PrunerParam& p : info.params) {
    if (p.name == "seed" && !out.has("seed") && params.has("seed"))
      out.set("seed", params.get_string("seed", "0"));
  }
  return out;
}

// curve/<column> datasets of a learning curve (docs/results-schema.md).
void add_curve_datasets(const LearningCurve& curve, sweep::JobResult& result) {
  const std::vector<std::pair<std::string, std::function<double(const CurvePoint&)>>> columns = {
      {"t", [](const CurvePoint& c) { return c.pruning_seconds(); }},
      {"metric", [](const CurvePoint& c) { return c.metric; }},
      {"flops_reduction", [](const CurvePoint& c) { return c.flops_reduction; }},
      {"t_importance", [](const CurvePoint& c) { return c.importance_seconds; }},
      {"t_train", [](const CurvePoint& c) { return c.train_seconds; }},
      {"t_eval", [](const CurvePoint& c) { return c.eval_seconds; }},
      {"t_io", [](const CurvePoint& c) { return c.io_seconds; }}};
  for (const auto& [name, value] : columns) {
    sweep::NumericDataset column;
    column.shape.push_back(static_cast<int64_t>(curve.size()));
    for (const CurvePoint& point : curve) column.reals.push_back(value(point));
    result.datasets["curve/" + name] = std::move(column);
  }
  for (const std::string name : {"step", "stage"}) {
    sweep::NumericDataset column;
    column.type = sweep::NumericDataset::Type::kInt64;
    column.shape.push_back(static_cast<int64_t>(curve.size()));
    for (const CurvePoint& point : curve) {
      column.integers.push_back(name == "step" ? point.step : point.stage);
    }
    result.datasets["curve/" + name] = std::move(column);
  }
}

sweep::NumericDataset tensor_dataset(const torch::Tensor& tensor) {
  const torch::Tensor values = tensor.to(torch::kCPU, torch::kFloat64).contiguous();
  sweep::NumericDataset out;
  out.type = sweep::NumericDataset::Type::kFloat32;
  for (const int64_t size : values.sizes()) out.shape.push_back(size);
  out.reals.assign(values.data_ptr<double>(), values.data_ptr<double>() + values.numel());
  return out;
}

// A retraining method (DynaBERT, EBERT) at the job's ratio; DynaBERT reads the shared training
// that its prerequisite job wrote.
sweep::JobResult run_retraining(const sweep::JobSpec& spec, sweep::WorkerContext& context,
                                const RetrainMethod& method) {
  const Params& p = spec.params;
  const TaskSpec& task = find_task(required_param(p, "task", "prune"));
  required_param(p, "flops_reduction", "prune");
  const double ratio = p.get_double("flops_reduction", 0);
  const std::string dir = method.train_shared
                              ? retrain_job_dir(method, p, context)
                              : (std::filesystem::path(context.artifacts_dir) / spec.id).string();
  const RetrainJobStart start = start_retrain_job(method, spec, task, dir, context);
  const RetrainInput& input = start.input;
  const TeacherData& teacher = *start.teacher;
  sweep::JobResult result;
  result.attrs["teacher_loaded"] = start.teacher_loaded ? "true" : "false";
  result.times["teacher"] = start.teacher_seconds;
  const RetrainOutcome outcome = method.prune(input, ratio);

  result.metrics = outcome.metrics;
  result.metrics["flops_before"] = outcome.flops_before;
  result.metrics["flops_after"] = outcome.flops_after;
  result.teacher_metrics = teacher.eval.metrics;
  result.times["prune"] = outcome.pruning_seconds;
  result.times["importance"] = outcome.importance_seconds;
  result.times["train"] = outcome.train_seconds;
  result.times["eval"] = outcome.eval_seconds;
  result.times["io"] = outcome.io_seconds;
  result.attrs["metric_name"] = task.main_metric;
  result.attrs["label"] = outcome.label;
  result.attrs["checkpoint_sha256"] = teacher.sha256;
  result.attrs["flops_seq_len"] = fmt::format("{}", teacher.seq_len);
  result.attrs["censored"] = outcome.stopped_early ? "true" : "false";
  result.attrs["training_dir"] = input.dir;
  result.attrs["details"] = outcome.details.dump();
  add_curve_datasets(outcome.curve, result);
  for (const auto& [name, array] : outcome.arrays) result.datasets[name] = tensor_dataset(array);
  context.log_stream() << fmt::format(
      "{} {:.0f}%: {} {:.2f} (teacher {:.2f}), GFLOPs {:.4f} -> {:.4f}, pruning time {:.1f} s{}\n",
      outcome.label, 100 * ratio, task.main_metric, outcome.metrics.at(task.main_metric),
      teacher.eval.metrics.at(task.main_metric), outcome.flops_before, outcome.flops_after,
      outcome.pruning_seconds, outcome.stopped_early ? " (stopped at max_wall_s)" : "");
  return result;
}

sweep::JobResult run_prune(const sweep::JobSpec& spec, sweep::WorkerContext& context) {
  const Params& p = spec.params;
  const std::string pruner = required_param(p, "pruner", "prune");
  if (const RetrainMethod* method = find_retrain_method(pruner)) {
    return run_retraining(spec, context, *method);
  }
  const TaskSpec& task = find_task(required_param(p, "task", "prune"));
  const std::string checkpoint = required_param(p, "checkpoint", "prune");
  const PrunerInfo& info = find_pruner(pruner);
  required_param(p, "flops_reduction", "prune");
  const double ratio = p.get_double("flops_reduction", 0);
  const uint64_t seed = static_cast<uint64_t>(p.get_int("seed", 0));
  configure_threads(context.threads);
  const torch::Device device = parse_device(context.device);

  sweep::JobResult result;
  Stopwatch teacher_clock;
  bool teacher_loaded = false;
  const auto teacher = cached_teacher_data(spec, context, checkpoint, task, device, teacher_loaded);
  result.attrs["teacher_loaded"] = teacher_loaded ? "true" : "false";
  const int64_t size =
      pruning_sample_size(info, teacher->seq_len, p.get_int("num_tokens", kDefaultSampleTokens),
                          teacher->train.size(), p.get_int("sample_size", 0));
  const auto samples =
      context.cached<SampleSet>(fmt::format("{}/samples/{}", spec.cache_key, size), [&] {
        return std::make_shared<SampleSet>(make_pruning_sample_set(
            teacher->train, size, seed, teacher->model->config().pad_token_id));
      });
  result.times["teacher"] = teacher_clock.seconds();

  // The cached teacher stays unpruned for the next job.
  const auto model = teacher->model->clone();
  PruneInput input;
  input.sample_batches = &samples->batches;
  input.flops_reduction = ratio;
  input.flops_seq_len = teacher->seq_len;
  input.head_kind = task.head_kind;
  input.params = pruner_params(p, info);
  input.device = device;
  const PruneReport report = run_pruner(pruner, *model, input);
  result.times["prune"] = report.wall_seconds;

  Stopwatch eval_clock;
  const TaskEvaluation eval = evaluate_task(*model, teacher->dev, device);
  result.times["eval"] = eval_clock.seconds();

  result.metrics = eval.metrics;
  result.metrics["flops_before"] = report.flops_before;
  result.metrics["flops_after"] = report.flops_after;
  result.teacher_metrics = teacher->eval.metrics;
  result.attrs["metric_name"] = task.main_metric;
  result.attrs["label"] = report.label;
  result.attrs["checkpoint_sha256"] = teacher->sha256;
  result.attrs["flops_seq_len"] = fmt::format("{}", teacher->seq_len);
  if (!report.fallbacks.empty())
    result.attrs["fallbacks"] = fmt::format("{}", fmt::join(report.fallbacks, "\n"));
  if (!report.details.empty()) result.attrs["details"] = report.details.dump();
  result.datasets["head_masks"] = matrix_dataset(report.head_masks, "head_masks");
  result.datasets["neuron_masks"] = matrix_dataset(report.neuron_masks, "neuron_masks");
  sweep::NumericDataset indices;
  indices.type = sweep::NumericDataset::Type::kInt64;
  indices.shape = {static_cast<int64_t>(samples->indices.size())};
  indices.integers = samples->indices;
  result.datasets["sample_indices"] = std::move(indices);
  add_sublayer_datasets(report, result);

  context.log_stream() << fmt::format(
      "{} {:.0f}%: {} {:.2f} (teacher {:.2f}), GFLOPs {:.4f} -> {:.4f}, {} samples, prune "
      "{:.2f} s, eval {:.2f} s, teacher {:.2f} s\n",
      report.label, 100 * ratio, task.main_metric, eval.metrics.at(task.main_metric),
      teacher->eval.metrics.at(task.main_metric), report.flops_before, report.flops_after, size,
      result.times["prune"], result.times["eval"], result.times["teacher"]);
  return result;
}

}  // namespace

sweep::JobKind prune_job_kind() {
  sweep::JobKind kind{"prune",
                      {"checkpoint", "task", "pruner", "pruner.*", "flops_reduction", "seed",
                       "sample_size", "num_tokens", "model", "tag"},
                      {"checkpoint", "task", "seed", "sample_size"},
                      run_prune,
                      {},
                      {}};
  kind.check_inputs = [](const sweep::JobSpec& spec, sweep::InputCheckContext& context) {
    const std::string pruner = required_param(spec.params, "pruner", "prune");
    if (find_retrain_method(pruner) == nullptr) find_pruner(pruner);  // an unknown name throws
    return check_teacher_job(spec.params, "prune", context);
  };
  // A retraining method whose FLOPs targets share one training (DynaBERT) needs that job.
  kind.prerequisites = [](const Params& params) {
    std::vector<std::pair<std::string, Params>> needed;
    const RetrainMethod* method = find_retrain_method(params.get_string("pruner", ""));
    if (method != nullptr && method->train_shared) {
      needed.emplace_back("retrain", retrain_job_params(*method, params));
    }
    return needed;
  };
  return kind;
}

}  // namespace kprune::jobs
