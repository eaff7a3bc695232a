// Coordinator overhead per job and the teacher-cache saving, measured with stand-in jobs of
// known length through the real kprune-sweep program:
//   overhead/job = (wall - startup - jobs x duration / workers) / jobs, for 1 rank (the
//   coordinator runs jobs itself) and 2 ranks (coordinator + 1 worker over MPI), where
//   startup is the wall time of the same command once every job is done (resume skips all);
//   cache: 5 ratios of one teacher in one sweep vs 5 cold single-job runs.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "bench/bench_support.h"

namespace {

const std::string kSweep = KPRUNE_SWEEP_BIN;

std::string write_config(const std::string& dir, int jobs, double duration, double teacher_s) {
  const std::string path = dir + "/bench.toml";
  std::string ratios;
  for (int i = 0; i < jobs; ++i) ratios += fmt::format("{}{}", i == 0 ? "" : ", ", 0.01 * (i + 1));
  std::ofstream(path) << fmt::format(
      "[sweep]\noutput = \"{}/results.h5\"\n[grids.main]\nkind = \"standin\"\ntask = \"t\"\n"
      "flops_reduction = [{}]\nduration_s = {}\nteacher_s = {}\n",
      dir, ratios, duration, teacher_s);
  return path;
}

std::string fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("kprune-bench-sweep-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

void overhead(int ranks, int jobs, double duration) {
  const std::string dir = fresh_dir(fmt::format("overhead{}", ranks));
  const std::string config = write_config(dir, jobs, duration, 0.0);
  const std::string command =
      ranks == 1 ? kSweep + " " + config
                 : fmt::format("mpirun --allow-run-as-root --oversubscribe -np {} {} {}", ranks,
                               kSweep, config);
  const double wall = kprune::bench::timed_command(command);
  const double startup =
      kprune::bench::timed_command(command);  // everything done: expansion, MPI start, file open
  const int workers = ranks == 1 ? 1 : ranks - 1;
  const double work = jobs * duration / workers;
  fmt::print(
      "ranks {}  jobs {} x {:.3f} s  wall {:.2f} s  startup {:.2f} s  overhead/job {:.1f} ms\n",
      ranks, jobs, duration, wall, startup, 1000.0 * (wall - startup - work) / jobs);
}

void cache_saving(int ratios, double duration, double teacher_s) {
  const std::string dir = fresh_dir("cache");
  const std::string config = write_config(dir, ratios, duration, teacher_s);
  const double warm = kprune::bench::timed_command(kSweep + " " + config);
  double cold = 0;
  for (int i = 0; i < ratios; ++i) {
    std::filesystem::remove(dir + "/results.h5");
    cold += kprune::bench::timed_command(
        fmt::format("{} {} --filter flops_reduction={}", kSweep, config, 0.01 * (i + 1)));
  }
  fmt::print(
      "teacher cache: {} ratios, teacher {:.2f} s, job {:.2f} s: one sweep {:.2f} s vs {} cold "
      "runs {:.2f} s "
      "({:.2f}x)\n",
      ratios, teacher_s, duration, warm, ratios, cold, cold / warm);
}

}  // namespace

int main() {
  overhead(1, 40, 0.05);
  overhead(2, 40, 0.05);
  cache_saving(5, 0.1, 1.0);
  return 0;
}
