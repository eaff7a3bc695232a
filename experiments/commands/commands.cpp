#include "experiments/commands/commands.h"

namespace kprune::cli {

const std::vector<Command>& all_commands() {
  static const std::vector<Command> commands = {
      {"tokenize", add_tokenize_command},
      {"finetune", add_finetune_command},
      {"eval", add_eval_command},
      {"make-synthetic", add_make_synthetic_command},
      {"inspect", add_inspect_command},
      {"squad-score", add_squad_score_command},
      {"prune", add_prune_command},
      {"latency", add_latency_command},
      {"pretrain", add_pretrain_command},
      {"pretrain-corpus", add_pretrain_corpus_command},
      {"split-dev", add_split_dev_command},
  };
  return commands;
}

void add_precision_option(CLI::App* cmd, std::string& precision) {
  cmd->add_option("--precision", precision,
                  "fp32, or bf16: mixed precision (bfloat16 matrix products; weights, gradients "
                  "and optimizer in fp32)")
      ->check(CLI::IsMember({"fp32", "bf16"}))
      ->capture_default_str();
}

}  // namespace kprune::cli
