#pragma once
// The registry of `kprune` subcommands. Adding a command is one file in this folder that
// defines `void add_<name>_command(CLI::App&)` plus one line in commands.cpp.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

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

// The shape of a randomly initialised encoder (TeacherRecipe, PretrainRecipe), as
// --model-type/--layers/--hidden/--heads/--ffn/--max-position.
template <typename Recipe>
void add_random_init_shape_options(CLI::App* cmd, Recipe& recipe) {
  cmd->add_option("--model-type", recipe.model_type, "Random init: bert or distilbert")
      ->capture_default_str();
  cmd->add_option("--layers", recipe.layers, "Random init: encoder layers")->capture_default_str();
  cmd->add_option("--hidden", recipe.hidden, "Random init: hidden size")->capture_default_str();
  cmd->add_option("--heads", recipe.heads, "Random init: attention heads")->capture_default_str();
  cmd->add_option("--ffn", recipe.ffn, "Random init: FFN intermediate size")->capture_default_str();
  cmd->add_option("--max-position", recipe.max_position, "Random init: position embeddings")
      ->capture_default_str();
}

// --precision for the training commands: fp32, or bf16 mixed precision.
void add_precision_option(CLI::App* cmd, std::string& precision);

}  // namespace kprune::cli
