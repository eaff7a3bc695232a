#include "framework/sweep/environment.h"

#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <regex>

#include "framework/util/error.h"

namespace kprune::sweep {

std::string resolve_device(const std::string& setting, int local_rank, int visible_gpus) {
  if (setting != "auto" && setting != "cuda") return setting;
  if (visible_gpus > 0) return "cuda:" + std::to_string(local_rank % visible_gpus);
  if (setting == "cuda") fail("sweep.device=cuda but no GPU is visible on {}", host_name());
  return "cpu";
}

int visible_gpu_count() {
  if (const char* visible = std::getenv("CUDA_VISIBLE_DEVICES")) {
    const std::string list = visible;
    if (list.empty() || list == "-1" || list == "NoDevFiles") return 0;
    int count = 1;
    for (char c : list) count += c == ',' ? 1 : 0;
    return count;
  }
  int count = 0;
  std::error_code error;
  const std::regex device_name("nvidia[0-9]+");
  for (const auto& entry : std::filesystem::directory_iterator("/dev", error)) {
    if (std::regex_match(entry.path().filename().string(), device_name)) ++count;
  }
  return count;
}

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
}

std::string host_name() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

void check_slurm_tasks(int world_size) {
  const char* tasks = std::getenv("SLURM_NTASKS");
  if (tasks == nullptr) return;
  const int expected = std::atoi(tasks);
  if (expected != world_size) {
    fail(
        "SLURM_NTASKS={} but MPI sees {} rank(s): start the sweep with `srun --mpi=pmix "
        "kprune-sweep ...` "
        "or `mpirun kprune-sweep ...` inside the allocation (see slurm/README.md)",
        expected, world_size);
  }
}

}  // namespace kprune::sweep
