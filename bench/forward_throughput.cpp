// Forward throughput of a BERT-base-shaped random encoder (batch 32, length 128 by default),
// printed beside the machine's GEMM rate measured in the same run, so the ratio says how
// close the encoder runs to what the BLAS can do here.
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "bench/bench_support.h"
#include "framework/model/device.h"
#include "framework/model/encoder.h"
#include "framework/util/timer.h"

namespace {

using kprune::Stopwatch;

// Seconds of the fastest of `repeats` calls after one warm-up call.
template <typename F>
double best_seconds(int repeats, F&& run) {
  run();
  double best = 1e300;
  for (int i = 0; i < repeats; ++i) {
    Stopwatch clock;
    run();
    best = std::min(best, clock.seconds());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Encoder forward throughput vs the GEMM rate of this machine"};
  int64_t batch = 32, seq = 128;
  kprune::bench::ModelShape shape;
  int repeats = 3, threads = 0;
  std::string device_spec = "auto";
  app.add_option("--batch", batch)->capture_default_str();
  app.add_option("--seq", seq)->capture_default_str();
  shape.add_options(app);
  app.add_option("--repeats", repeats)->capture_default_str();
  app.add_option("--threads", threads, "0: all cores")->capture_default_str();
  app.add_option("--device", device_spec)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  const int64_t layers = shape.layers, hidden = shape.hidden, heads = shape.heads, ffn = shape.ffn;

  const kprune::ThreadPlan plan = kprune::configure_threads(threads);
  const torch::Device device = kprune::parse_device(device_spec);
  torch::NoGradGuard no_grad;
  auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize();
  };

  // GEMM rate on the shape of the FFN's first projection: [tokens, d] x [d, d_f].
  const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const torch::Tensor a = torch::randn({batch * seq, hidden}, options);
  const torch::Tensor b = torch::randn({hidden, ffn}, options);
  const double gemm_s = best_seconds(repeats, [&] {
    torch::mm(a, b);
    sync();
  });
  const double gemm_flops = 2.0 * double(batch * seq) * double(hidden) * double(ffn);
  const double gemm_rate = gemm_flops / gemm_s;

  auto model = kprune::bench::random_bert(shape, device);
  kprune::Batch input;
  input.input_ids = torch::randint(1000, 30000, {batch, seq}, torch::kLong).to(device);
  input.token_type_ids = torch::zeros({batch, seq}, torch::kLong).to(device);
  input.attention_mask = torch::ones({batch, seq}, torch::kLong).to(device);
  const double forward_s = best_seconds(repeats, [&] {
    model->forward(input);
    sync();
  });

  // Matrix-product FLOPs of one forward: Q,K,V,O and the two FFN projections, plus the
  // attention scores and the weighted sum.
  const double tokens = double(batch * seq);
  const double per_layer = 2.0 * tokens * (4.0 * hidden * hidden + 2.0 * hidden * ffn) +
                           4.0 * double(batch) * double(seq) * double(seq) * double(hidden);
  const double forward_flops = per_layer * double(layers);
  const double forward_rate = forward_flops / forward_s;

  fmt::print("device {}  intra-op threads {}  OpenBLAS threads {}\n", device.str(), plan.intra_op,
             plan.blas);
  fmt::print("GEMM [{}x{}]x[{}x{}]: {:.1f} GFLOP/s\n", batch * seq, hidden, hidden, ffn,
             gemm_rate / 1e9);
  fmt::print(
      "encoder L={} d={} H={} d_f={}, batch {} x length {}: {:.3f} s per forward, {:.0f} tokens/s, "
      "{:.1f} GFLOP/s\n",
      layers, hidden, heads, ffn, batch, seq, forward_s, tokens / forward_s, forward_rate / 1e9);
  fmt::print("ratio forward GFLOP/s / GEMM GFLOP/s = {:.3f}\n", forward_rate / gemm_rate);
  return 0;
}
