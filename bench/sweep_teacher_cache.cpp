// The teacher-cache saving with real prune jobs, through the kprune-sweep program: a grid of
// five FLOPs ratios for one teacher run as one sweep (the worker keeps the loaded teacher, the
// tokenized splits, its dev metrics and the sample set between jobs) vs five cold runs of one
// job each (every run pays for them again). The teacher is trained once beforehand by a
// finetune-only sweep.
//   bench_sweep_teacher_cache [--task synthetic] [--pruner magnitude] [--layers 2 --hidden 64
//                              --heads 2 --ffn 256] [--steps 300]
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

#include "bench/bench_support.h"

namespace {

const std::string kSweep = KPRUNE_SWEEP_BIN;
const double kRatios[] = {0.4, 0.5, 0.6, 0.7, 0.8};

std::map<std::string, std::string> parse_args(int argc, char** argv) {
  std::map<std::string, std::string> args = {
      {"task", "synthetic"}, {"pruner", "magnitude"}, {"layers", "2"}, {"hidden", "64"},
      {"heads", "2"},        {"ffn", "256"},          {"steps", "300"}};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = std::string(argv[i]).substr(2);
    if (std::string(argv[i]).rfind("--", 0) != 0 || args.count(key) == 0)
      throw std::runtime_error(fmt::format("unknown option {}", argv[i]));
    args[key] = argv[i + 1];
  }
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  const auto args = parse_args(argc, argv);
  const auto dir = std::filesystem::temp_directory_path() / "kprune-bench-teacher-cache";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string artifacts = (dir / "artifacts").string();

  const std::string teacher_config = (dir / "teacher.toml").string();
  std::ofstream(teacher_config) << fmt::format(
      "[sweep]\noutput = \"{}/teacher.h5\"\nartifacts = \"{}\"\n[grids.teacher]\nkind = "
      "\"finetune\"\ntask = \"{}\"\nlayers = {}\nhidden = {}\nheads = {}\nffn = {}\n"
      "max_position = 512\nsteps = {}\neval_every = {}\nlr = 1e-3\n",
      dir.string(), artifacts, args.at("task"), args.at("layers"), args.at("hidden"),
      args.at("heads"), args.at("ffn"), args.at("steps"), args.at("steps"));
  const double train_s = kprune::bench::timed_command(kSweep + " " + teacher_config);
  std::string checkpoint;
  for (const auto& entry : std::filesystem::directory_iterator(artifacts)) {
    if (std::filesystem::exists(entry.path() / "model.safetensors")) checkpoint = entry.path();
  }
  if (checkpoint.empty()) throw std::runtime_error("the finetune sweep wrote no checkpoint");

  std::string ratios;
  for (double r : kRatios) ratios += fmt::format("{}{}", ratios.empty() ? "" : ", ", r);
  const std::string grid_config = (dir / "grid.toml").string();
  std::ofstream(grid_config) << fmt::format(
      "[sweep]\noutput = \"{}/grid.h5\"\nartifacts = \"{}\"\n[models.teacher]\ncheckpoint = "
      "\"{}\"\n[grids.main]\nkind = \"prune\"\nmodel = \"teacher\"\ntask = \"{}\"\npruner = "
      "\"{}\"\nflops_reduction = [{}]\n",
      dir.string(), artifacts, checkpoint, args.at("task"), args.at("pruner"), ratios);
  const double warm = kprune::bench::timed_command(kSweep + " " + grid_config);
  double cold = 0;
  for (double r : kRatios) {
    std::filesystem::remove(dir / "grid.h5");
    cold += kprune::bench::timed_command(
        fmt::format("{} {} --filter flops_reduction={}", kSweep, grid_config, r));
  }
  fmt::print(
      "teacher cache, real prune jobs ({} on {}, {} layers x hidden {}; teacher trained in "
      "{:.1f} s):\n  one sweep of {} ratios {:.2f} s   vs   {} cold one-job runs {:.2f} s   "
      "({:.2f}x, {:.2f} s saved per job)\n",
      args.at("pruner"), args.at("task"), args.at("layers"), args.at("hidden"), train_s,
      std::size(kRatios), warm, std::size(kRatios), cold, cold / warm,
      (cold - warm) / static_cast<double>(std::size(kRatios)));
  return 0;
}
