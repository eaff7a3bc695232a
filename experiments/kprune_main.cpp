// kprune: the single-run CLI (finetune, eval, inspect, tokenize, ...).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "experiments/commands/commands.h"
#include "framework/util/error.h"

int main(int argc, char** argv) {
  CLI::App app{"kprune: retraining-free pruning of fine-tuned BERT-family encoders"};
  app.require_subcommand(1);
  app.set_version_flag("--version", kprune::code_version());
  for (const auto& command : kprune::cli::all_commands()) command.add_to(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    fmt::print(stderr, "kprune: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
