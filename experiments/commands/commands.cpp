#include "experiments/commands/commands.h"

namespace kprune::cli {

const std::vector<Command>& all_commands() {
  static const std::vector<Command> commands = {
      {"tokenize", add_tokenize_command},
      {"finetune", add_finetune_command},
  };
  return commands;
}

}  // namespace kprune::cli
