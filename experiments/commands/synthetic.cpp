// kprune make-synthetic: writes a synthetic task for the demo and for small teachers: the
// sentiment task (vocab.txt + GLUE-format TSVs) or the SQuAD-format QA task (squad_synthetic.h).
#include "framework/tasks/synthetic.h"

#include <fmt/format.h>

#include "experiments/commands/commands.h"
#include "framework/tasks/squad_synthetic.h"

namespace kprune::cli {

void add_make_synthetic_command(CLI::App& app) {
  struct Args {
    std::string out_dir;
    std::string task = "synthetic";
    uint64_t seed = 0;
    int64_t train_size = 8000;
    int64_t dev_size = 1000;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "make-synthetic",
      "Write a synthetic task: OUT/vocab.txt and OUT/synthetic/{train,dev}.tsv (sentiment) or "
      "OUT/v1.1|v2.0/{train,dev}-<version>.json (--task squad|squad_v2)");
  cmd->add_option("--out", args->out_dir, "Output folder (use it as --data-dir)")->required();
  cmd->add_option("--task", args->task, "synthetic (sentiment), squad or squad_v2 (QA)")
      ->capture_default_str()
      ->check(CLI::IsMember({"synthetic", "squad", "squad_v2"}));
  cmd->add_option("--seed", args->seed, "Generator seed (same seed, same bytes)")
      ->capture_default_str();
  cmd->add_option("--train", args->train_size,
                  "Training examples (QA: paragraphs, 4 questions each)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--dev", args->dev_size, "Dev examples (QA: paragraphs)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->callback([args] {
    if (args->task == "synthetic") {
      write_synthetic_task(args->out_dir, args->seed, args->train_size, args->dev_size);
      fmt::print("wrote {}/vocab.txt and {}/synthetic/{{train,dev}}.tsv ({} + {} examples)\n",
                 args->out_dir, args->out_dir, args->train_size, args->dev_size);
      return;
    }
    SquadSyntheticOptions options;
    options.version_2 = args->task == "squad_v2";
    write_synthetic_squad(args->out_dir, args->seed, args->train_size, args->dev_size, options);
    const char* version = options.version_2 ? "v2.0" : "v1.1";
    fmt::print("wrote {}/vocab.txt and {}/{}/{{train,dev}}-{}.json ({} + {} paragraphs)\n",
               args->out_dir, args->out_dir, version, version, args->train_size, args->dev_size);
  });
}

}  // namespace kprune::cli
