// kprune inspect: what a checkpoint is (family, head, shape, per-layer sizes, parameters) and
// what it costs (GFLOPs per algorithms.md 2.1, for one sequence length or every task's).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "experiments/commands/commands.h"
#include "framework/model/checkpoint.h"
#include "framework/model/flops.h"

namespace kprune::cli {
namespace {

struct InspectArgs {
  std::string checkpoint;
  double seq_len = 0;
  std::string task;
  bool json = false;
};

void run_inspect(const InspectArgs& args) {
  const auto model = load_checkpoint(args.checkpoint);
  const EncoderConfig& config = model->config();
  // (label, ℓ): one given length, one task's, or every task of the table.
  std::vector<std::pair<std::string, double>> lengths;
  if (args.seq_len > 0) {
    lengths.emplace_back("seq_len", args.seq_len);
  } else if (!args.task.empty()) {
    lengths.emplace_back(args.task, task_flops_seq_len(args.task));
  } else {
    for (const auto& task : flops_tasks()) lengths.emplace_back(task, task_flops_seq_len(task));
  }

  nlohmann::json flops = nlohmann::json::array();
  for (const auto& [label, seq_len] : lengths) {
    const double gflops = model_flops(config, seq_len) / 1e9;
    const double full = full_model_flops(config, seq_len) / 1e9;
    flops.push_back({{"name", label},
                     {"seq_len", seq_len},
                     {"gflops", gflops},
                     {"full_gflops", full},
                     {"flops_reduction", 1.0 - gflops / full}});
  }
  nlohmann::json report = {{"checkpoint", args.checkpoint},
                           {"model_type", config.model_type},
                           {"head_kind", to_string(config.head_kind)},
                           {"num_labels", config.num_labels},
                           {"layers", config.num_layers},
                           {"hidden_size", config.hidden_size},
                           {"heads", config.num_heads},
                           {"head_dim", config.head_dim},
                           {"intermediate_size", config.intermediate_size},
                           {"vocab_size", config.vocab_size},
                           {"pruned", config.is_pruned()},
                           {"heads_per_layer", config.heads_per_layer},
                           {"neurons_per_layer", config.neurons_per_layer},
                           {"parameters", model->num_parameters()},
                           {"flops", flops}};
  if (args.json) {
    std::cout << report.dump(2) << '\n';
    return;
  }
  std::cout << fmt::format("checkpoint   {}\n", args.checkpoint)
            << fmt::format("family       {} ({} head, {} label{})\n", config.model_type,
                           to_string(config.head_kind), config.num_labels,
                           config.num_labels == 1 ? "" : "s")
            << fmt::format("shape        {} layers, hidden {}, {} heads x {}, FFN {}, vocab {}\n",
                           config.num_layers, config.hidden_size, config.num_heads, config.head_dim,
                           config.intermediate_size, config.vocab_size)
            << fmt::format("parameters   {}\n", model->num_parameters());
  std::cout << fmt::format("{}\n", config.is_pruned() ? "per-layer sizes (pruned; 0 = LN-only)"
                                                      : "per-layer sizes (unpruned)");
  for (int64_t layer = 0; layer < config.num_layers; ++layer) {
    std::cout << fmt::format("  layer {:>2}  heads {:>3}/{}  neurons {:>5}/{}\n", layer,
                             config.heads_per_layer[layer], config.num_heads,
                             config.neurons_per_layer[layer], config.intermediate_size);
  }
  std::cout << "FLOPs (algorithms.md 2.1)\n";
  for (const auto& row : flops) {
    std::cout << fmt::format("  {:<8} l={:<7} {:>10.6g} GFLOPs  ({:.2f}% removed)\n",
                             row["name"].get<std::string>(), row["seq_len"].get<double>(),
                             row["gflops"].get<double>(),
                             100.0 * row["flops_reduction"].get<double>());
  }
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto args = std::make_shared<InspectArgs>();
  CLI::App* cmd = app.add_subcommand(
      "inspect", "Print a checkpoint's config, per-layer sizes, parameters and FLOPs");
  cmd->add_option("--checkpoint", args->checkpoint,
                  "HF checkpoint directory (config.json + model.safetensors)")
      ->required();
  auto* seq_len = cmd->add_option("--seq-len", args->seq_len, "Sequence length for FLOPs")
                      ->check(CLI::PositiveNumber);
  cmd->add_option("--task", args->task,
                  "Use the task's FLOPs sequence length (sst2, mrpc, ..., squad); default: all")
      ->excludes(seq_len);
  cmd->add_flag("--json", args->json, "Machine-readable JSON output");
  cmd->callback([args] { run_inspect(*args); });
}

}  // namespace kprune::cli
