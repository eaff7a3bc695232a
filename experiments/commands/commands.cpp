#include "experiments/commands/commands.h"

namespace kprune::cli {

const std::vector<Command>& all_commands() {
  static const std::vector<Command> commands = {};
  return commands;
}

}  // namespace kprune::cli
