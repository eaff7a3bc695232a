// kprune latency: inference latency and throughput of a checkpoint (teacher or pruned) over a
// batch-size × sequence-length grid, with warm-up, repetitions, device and threads recorded.
#include "framework/model/latency.h"

#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "experiments/commands/commands.h"
#include "framework/model/checkpoint.h"
#include "framework/model/device.h"
#include "framework/util/files.h"

namespace kprune::cli {
namespace {

struct LatencyArgs {
  std::string checkpoint;
  LatencyOptions options;
  bool json = false;
  std::string json_out;
  std::string device = "auto";
  int threads = 0;
};

void run_latency(const LatencyArgs& args) {
  const ThreadPlan plan = configure_threads(args.threads);
  const torch::Device device = parse_device(args.device);
  const auto model = load_checkpoint(args.checkpoint, device);
  model->eval();
  const LatencyResult result = measure_latency(*model, args.options);

  nlohmann::json report = result.to_json();
  report["checkpoint"] = args.checkpoint;
  report["threads"] = {{"requested", args.threads},
                       {"intra_op", plan.intra_op},
                       {"openblas", plan.blas},
                       {"cores_available", available_cores()}};
  report["pruned"] = model->config().is_pruned();
  report["parameters"] = model->num_parameters();
  if (!args.json_out.empty()) write_file_atomic(args.json_out, report.dump(1) + "\n");
  if (args.json) {
    std::cout << report.dump(2) << '\n';
    return;
  }
  std::cout << fmt::format(
      "{}  device {}  intra-op threads {}  OpenBLAS threads {}  warm-up {}  repetitions {}{}\n",
      args.checkpoint, result.device, plan.intra_op, plan.blas, args.options.warmup,
      args.options.repetitions, args.options.encoder_only ? "  (encoder only)" : "");
  std::cout << fmt::format("{:>6} {:>6} {:>11} {:>11} {:>11} {:>12} {:>12}\n", "batch", "length",
                           "median ms", "min ms", "max ms", "seq/s", "tokens/s");
  for (const LatencyPoint& p : result.points) {
    std::cout << fmt::format("{:>6} {:>6} {:>11.3f} {:>11.3f} {:>11.3f} {:>12.1f} {:>12.0f}\n",
                             p.batch_size, p.seq_len, p.median_ms, p.min_ms, p.max_ms,
                             p.sequences_per_second, p.tokens_per_second);
  }
}

}  // namespace

void add_latency_command(CLI::App& app) {
  auto args = std::make_shared<LatencyArgs>();
  CLI::App* cmd = app.add_subcommand(
      "latency", "Latency and throughput of a checkpoint over a batch x sequence-length grid");
  cmd->add_option("--checkpoint", args->checkpoint, "HF checkpoint folder (teacher or pruned)")
      ->required();
  cmd->add_option("--batch-sizes", args->options.batch_sizes, "Batch sizes of the grid")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--seq-lens", args->options.seq_lens, "Sequence lengths of the grid")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--warmup", args->options.warmup, "Untimed calls per grid point")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--repetitions", args->options.repetitions, "Timed calls per grid point")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--encoder-only", args->options.encoder_only,
                "Time only the 2L sublayers (not embeddings and head)");
  cmd->add_option("--seed", args->options.seed, "Seed of the random token ids")
      ->capture_default_str();
  cmd->add_flag("--json", args->json, "Print the JSON report instead of the table");
  cmd->add_option("--json-out", args->json_out, "Also write the JSON report to this file");
  cmd->add_option("--device", args->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--threads", args->threads, "CPU threads (0: every available core)")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  cmd->callback([args] { run_latency(*args); });
}

}  // namespace kprune::cli
