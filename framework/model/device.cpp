#include "framework/model/device.h"

#include <sched.h>


#include "framework/util/error.h"

// Present when LibTorch's BLAS is OpenBLAS; weak, so other BLAS builds still link.
extern "C" void openblas_set_num_threads(int threads) __attribute__((weak));
extern "C" int openblas_get_num_threads() __attribute__((weak));

namespace kprune {

torch::Device parse_device(const std::string& spec) {
  if (spec == "auto") {
    return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0)
                                       : torch::Device(torch::kCPU);
  }
  if (spec == "cpu") return torch::Device(torch::kCPU);
  if (spec == "cuda" || spec.rfind("cuda:", 0) == 0) {
    int64_t index = 0;
    if (spec.size() > 5) {
      const std::string digits = spec.substr(5);
      if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos ||
          digits.size() > 4) {
        fail("device '{}': expected auto, cpu, cuda or cuda:N", spec);
      }
      index = std::stoll(digits);
    }
    if (!torch::cuda::is_available()) {
      fail("device '{}': CUDA is not available (this LibTorch build has no CUDA or sees no GPU)",
           spec);
    }
    const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
    if (index >= count) fail("device '{}': only {} CUDA device(s) are visible", spec, count);
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  fail("device '{}': expected auto, cpu, cuda or cuda:N", spec);
}

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int count = CPU_COUNT(&set);
    if (count > 0) return count;
  }
  return 1;
}

ThreadPlan configure_threads(int threads, Precision precision) {
  if (threads < 0) fail("threads must be >= 0 (0 = all available cores), found {}", threads);
  const int cores = threads == 0 ? available_cores() : threads;
  ThreadPlan plan;
  if (openblas_set_num_threads != nullptr && precision == Precision::bf16) {
    openblas_set_num_threads(1);
    plan.blas = 1;
    plan.intra_op = cores;
  } else if (openblas_set_num_threads != nullptr) {
    // The matrix products dominate and OpenBLAS parallelises them itself; a second pool of
    // intra-op threads only spins against it. Measured on 2 cores (bench_forward_throughput,
    // a 4-layer SST-2 fine-tune): 2 BLAS threads + 1 intra-op thread beat 1 + 2 by 1.6x and
    // 1.4x, and 2 + 2 was slower than either on the fine-tune.
    openblas_set_num_threads(cores);
    plan.blas = openblas_get_num_threads != nullptr ? openblas_get_num_threads() : cores;
    plan.intra_op = 1;
  } else {
    plan.intra_op = cores;
  }
  torch::set_num_threads(plan.intra_op);
  return plan;
}

}  // namespace kprune
