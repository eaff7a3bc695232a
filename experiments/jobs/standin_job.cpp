#include "experiments/jobs/standin_job.h"

#include <csignal>
#include <cstdlib>
#include <thread>

#include "framework/util/error.h"
#include "framework/util/timer.h"

namespace kprune::jobs {
namespace {

void sleep_for(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(std::max(0.0, seconds)));
}

// "LxH" -> {L, H}.
std::vector<int64_t> parse_shape(const std::string& text) {
  std::vector<int64_t> shape;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t x = text.find('x', start);
    const std::string part =
        text.substr(start, x == std::string::npos ? std::string::npos : x - start);
    char* end = nullptr;
    const long long extent = std::strtoll(part.c_str(), &end, 10);
    if (part.empty() || *end != '\0' || extent <= 0)
      fail("parameter mask_shape={}: expected extents like 12x12", text);
    shape.push_back(extent);
    if (x == std::string::npos) break;
    start = x + 1;
  }
  return shape;
}

struct StandinTeacher {
  double cost_s = 0;
};

sweep::JobResult run_standin(const sweep::JobSpec& spec, sweep::WorkerContext& context) {
  const Params& params = spec.params;
  sweep::JobResult result;
  Stopwatch teacher_clock;
  context.cached<StandinTeacher>(spec.cache_key + "/teacher", [&] {
    const double cost = params.get_double("teacher_s", 0.0);
    sleep_for(cost);
    return std::make_shared<StandinTeacher>(StandinTeacher{cost});
  });
  result.times["teacher"] = teacher_clock.seconds();

  Stopwatch work_clock;
  sleep_for(params.get_double("duration_s", 0.1));
  result.times["prune"] = work_clock.seconds();
  context.log_stream() << "standin slept " << result.times["prune"] << " s\n";
  if (params.get_bool("crash", false)) std::raise(SIGKILL);
  if (params.get_bool("fail", false)) fail("standin job {} failed on request (fail=true)", spec.id);

  result.status = "done";
  result.attrs["metric_name"] = "accuracy";
  result.metrics["accuracy"] = params.get_double("metric", 50.0);
  result.teacher_metrics["accuracy"] = params.get_double("teacher_metric", 90.0);
  if (params.has("mask_shape")) {
    sweep::NumericDataset masks;
    masks.type = sweep::NumericDataset::Type::kFloat32;
    masks.shape = parse_shape(params.get_string("mask_shape", ""));
    for (int64_t i = 0; i < masks.element_count(); ++i)
      masks.reals.push_back(i % 2 == 0 ? 1.0 : 0.0);
    result.datasets["head_masks"] = std::move(masks);
  }
  if (params.has("sample_size")) {
    sweep::NumericDataset indices;
    indices.type = sweep::NumericDataset::Type::kInt64;
    indices.shape = {params.get_int("sample_size", 0)};
    const int64_t seed = params.get_int("seed", 0);
    for (int64_t i = 0; i < indices.shape[0]; ++i) indices.integers.push_back(seed + i);
    result.datasets["sample_indices"] = std::move(indices);
  }
  return result;
}

}  // namespace

sweep::JobKind standin_job_kind() {
  return {"standin",
          {"duration_s", "teacher_s", "fail", "crash", "metric", "teacher_metric", "mask_shape",
           "sample_size", "model", "task", "checkpoint", "seed", "pruner", "pruner.*",
           "flops_reduction", "tag"},
          {"checkpoint", "task", "seed", "sample_size"},
          run_standin,
          {},
          {}};
}

}  // namespace kprune::jobs
