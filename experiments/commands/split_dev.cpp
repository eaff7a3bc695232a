// kprune split-dev: a deterministic train/dev split of a TSV file (the QQP train subset, whose
// dev set we do not have), written as DIR/train.tsv and DIR/dev.tsv.
#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "experiments/commands/commands.h"
#include "framework/tasks/dev_split.h"
#include "framework/util/files.h"
#include "framework/util/sha256.h"

namespace kprune::cli {
namespace {

struct SplitDevArgs {
  std::string input;
  std::string out_dir;
  int64_t dev_per_mille = 100;
  bool header = false;
};

void run_split_dev(const SplitDevArgs& args) {
  const std::string bytes = read_file(args.input);
  const TsvSplit split = split_tsv_by_id(bytes, args.dev_per_mille, args.header);
  std::filesystem::create_directories(args.out_dir);
  write_file_atomic(args.out_dir + "/train.tsv", split.train);
  write_file_atomic(args.out_dir + "/dev.tsv", split.dev);
  fmt::print("{}\n", nlohmann::json{{"input", args.input},
                                    {"input_sha256", sha256_hex(bytes)},
                                    {"train_rows", split.train_rows},
                                    {"dev_rows", split.dev_rows},
                                    {"train_sha256", sha256_hex(split.train)},
                                    {"dev_sha256", sha256_hex(split.dev)}}
                         .dump());
}

}  // namespace

void add_split_dev_command(CLI::App& app) {
  auto args = std::make_shared<SplitDevArgs>();
  CLI::App* cmd = app.add_subcommand(
      "split-dev", "Split a TSV into train.tsv/dev.tsv by a hash of each row's id (first field)");
  cmd->add_option("--input", args->input, "TSV file (e.g. QQP/train-subset-23497.tsv)")->required();
  cmd->add_option("--out-dir", args->out_dir, "Folder for train.tsv and dev.tsv")->required();
  cmd->add_option("--dev-per-mille", args->dev_per_mille, "Expected dev share in 1/1000")
      ->capture_default_str();
  cmd->add_flag("--header", args->header, "The first line is a header (copied to both files)");
  cmd->callback([args] { run_split_dev(*args); });
}

}  // namespace kprune::cli
