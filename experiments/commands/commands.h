#pragma once
// The registry of `kprune` subcommands. Adding a command is one file in this folder that
// defines `void add_<name>_command(CLI::App&)` plus one line in commands.cpp.
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "framework/util/version.h"

namespace kprune::cli {

struct Command {
  std::string name;
  std::function<void(CLI::App&)> add_to;
};

const std::vector<Command>& all_commands();

void add_tokenize_command(CLI::App& app);
void add_finetune_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_make_synthetic_command(CLI::App& app);
void add_inspect_command(CLI::App& app);
void add_squad_score_command(CLI::App& app);
void add_prune_command(CLI::App& app);
void add_latency_command(CLI::App& app);
void add_pretrain_command(CLI::App& app);
void add_pretrain_corpus_command(CLI::App& app);
void add_split_dev_command(CLI::App& app);

}  // namespace kprune::cli
