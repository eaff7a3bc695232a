// kprune make-synthetic: writes the synthetic demo task (vocab.txt + GLUE-format TSVs).
#include <fmt/format.h>

#include "experiments/commands/commands.h"
#include "framework/tasks/synthetic.h"

namespace kprune::cli {

void add_make_synthetic_command(CLI::App& app) {
  struct Args {
    std::string out_dir;
    uint64_t seed = 0;
    int64_t train_size = 8000;
    int64_t dev_size = 1000;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "make-synthetic",
      "Write the synthetic sentiment task: OUT/vocab.txt and OUT/synthetic/{train,dev}.tsv");
  cmd->add_option("--out", args->out_dir, "Output folder (use it as --data-dir)")->required();
  cmd->add_option("--seed", args->seed, "Generator seed (same seed, same bytes)")->capture_default_str();
  cmd->add_option("--train", args->train_size, "Training examples")->capture_default_str();
  cmd->add_option("--dev", args->dev_size, "Dev examples")->capture_default_str();
  cmd->callback([args] {
    write_synthetic_task(args->out_dir, args->seed, args->train_size, args->dev_size);
    fmt::print("wrote {}/vocab.txt and {}/synthetic/{{train,dev}}.tsv ({} + {} examples)\n",
               args->out_dir, args->out_dir, args->train_size, args->dev_size);
  });
}

}  // namespace kprune::cli
