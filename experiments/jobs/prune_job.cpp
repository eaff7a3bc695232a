#include "experiments/jobs/prune_job.h"

#include <fmt/format.h>

#include <memory>

#include "experiments/jobs/task_data.h"
#include "framework/model/checkpoint.h"
#include "framework/model/device.h"
#include "framework/prune/task_pruning.h"
#include "framework/tasks/evaluate.h"
#include "framework/tasks/tokenizer_files.h"
#include "framework/util/error.h"
#include "framework/util/sha256.h"
#include "framework/util/timer.h"

namespace kprune::jobs {
namespace {

// What every job on the same teacher shares.
struct Teacher {
  std::shared_ptr<EncoderModel> model;
  std::string sha256;
  TaskSplit train;
  TaskSplit dev;
  double seq_len = 0;
  TaskEvaluation eval;
};

std::shared_ptr<Teacher> load_teacher(const std::string& checkpoint, const TaskSpec& task,
                                      const std::string& data_dir, torch::Device device) {
  auto teacher = std::make_shared<Teacher>();
  teacher->model = load_checkpoint(checkpoint, device);
  check_head_matches_task(teacher->model->config(), task, checkpoint);
  teacher->sha256 = sha256_file(checkpoint + "/model.safetensors");
  const auto tokenizer = load_checkpoint_tokenizer(checkpoint);
  const EncoderConfig& config = teacher->model->config();
  teacher->train = load_task_split(task, data_dir, task.train_split, tokenizer, config);
  teacher->dev = load_task_split(task, data_dir, task.dev_split, tokenizer, config);
  teacher->seq_len = pruning_seq_len(task, teacher->dev);
  teacher->eval = evaluate_task(*teacher->model, teacher->dev, device);
  return teacher;
}

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

sweep::JobResult run_prune(const sweep::JobSpec& spec, sweep::WorkerContext& context) {
  const Params& p = spec.params;
  const TaskSpec& task = find_task(required_param(p, "task", "prune"));
  const std::string checkpoint = required_param(p, "checkpoint", "prune");
  const std::string pruner = required_param(p, "pruner", "prune");
  const PrunerInfo& info = find_pruner(pruner);
  required_param(p, "flops_reduction", "prune");
  const double ratio = p.get_double("flops_reduction", 0);
  const uint64_t seed = static_cast<uint64_t>(p.get_int("seed", 0));
  configure_threads(context.threads);
  const torch::Device device = parse_device(context.device);

  sweep::JobResult result;
  Stopwatch teacher_clock;
  bool teacher_loaded = false;
  const auto teacher = context.cached<Teacher>(spec.cache_key + "/teacher", [&] {
    teacher_loaded = true;
    return load_teacher(checkpoint, task, task_data_dir(task, context), device);
  });
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
  return {"prune",
          {"checkpoint", "task", "pruner", "pruner.*", "flops_reduction", "seed", "sample_size",
           "num_tokens", "model", "tag"},
          {"checkpoint", "task", "seed", "sample_size"},
          run_prune};
}

}  // namespace kprune::jobs
