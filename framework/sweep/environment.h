#pragma once
// Where a rank runs: its device, its share of the node's cores, its host name. Torch-free:
// GPUs are counted from CUDA_VISIBLE_DEVICES or /dev/nvidiaN, and the job gets a string.
#include <string>

namespace kprune::sweep {

// "auto": cuda:<local_rank mod GPUs> when GPUs are visible, else cpu; "cuda": the same but
// failing without GPUs; anything else ("cpu", "cuda:1") is passed through.
std::string resolve_device(const std::string& setting, int local_rank, int visible_gpus);
// GPUs this process may use.
int visible_gpu_count();
// Cores this process may run on (its affinity mask).
int available_cores();
std::string host_name();
// Fails when Slurm started a different number of tasks than MPI sees (kprune-sweep started
// without srun/mpirun inside an allocation would otherwise run the sweep once per task).
void check_slurm_tasks(int world_size);

}  // namespace kprune::sweep
