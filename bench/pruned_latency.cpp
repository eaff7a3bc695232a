// Speed of physically pruned encoders: a BERT-base-shaped random model is shrunk to about 50%
// and 70% FLOPs reduction with random unit masks whose keep fraction varies per layer (±15%
// around 1 − ρ, heads and neurons alike), so the shapes look like a pruner's: uneven layers,
// odd neuron counts. (Magnitude or random scores on random weights would prune every head
// first: score per FLOP is far lower for heads, an attention-free model.) The encoder (2L
// sublayers) of teacher and pruned models is timed in the same run, in interleaved rounds so
// that load changes hit all alike. Prints the measured speedup over the teacher divided by the
// achieved FLOPs ratio (algorithms.md 2.1 at the measured length); target ≥ 0.9.
#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "bench/bench_support.h"
#include "framework/model/device.h"
#include "framework/model/encoder.h"
#include "framework/model/flops.h"
#include "framework/model/latency.h"
#include "framework/prune/masks.h"

namespace {

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Speedup of pruned BERT-base-shaped encoders over the teacher / FLOPs ratio"};
  int64_t batch = 32, seq = 128;
  kprune::bench::ModelShape shape;
  int rounds = 3, threads = 0;
  std::vector<double> reductions = {0.5, 0.7};
  std::string device_spec = "auto";
  app.add_option("--batch", batch)->capture_default_str();
  app.add_option("--seq", seq)->capture_default_str();
  shape.add_options(app);
  app.add_option("--reductions", reductions, "FLOPs reductions")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--rounds", rounds, "Timed rounds (each times every model once; median)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "0: all cores")->capture_default_str();
  app.add_option("--device", device_spec)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  const int64_t layers = shape.layers, hidden = shape.hidden, heads = shape.heads, ffn = shape.ffn;

  const kprune::ThreadPlan plan = kprune::configure_threads(threads);
  const torch::Device device = kprune::parse_device(device_spec);
  auto teacher = kprune::bench::random_bert(shape, torch::kCPU);
  const kprune::EncoderConfig& config = teacher->config();

  std::vector<std::shared_ptr<kprune::EncoderModel>> models = {teacher};
  auto generator = at::detail::createCPUGenerator(1);
  for (double reduction : reductions) {
    // Per layer: keep fraction (1 − ρ)(1 + 0.3 (u − 0.5)), the kept units chosen at random.
    const auto fractions =
        ((1 - reduction) * (1 + 0.3 * (torch::rand({layers}, generator, torch::kDouble) - 0.5)))
            .clamp(0.0, 1.0);
    auto keep = [&](int64_t units, int64_t layer) {
      const auto kept = std::max<int64_t>(
          1, std::llround(fractions[layer].item<double>() * static_cast<double>(units)));
      auto mask = torch::zeros({units}, torch::kFloat32);
      mask.index_fill_(0, torch::randperm(units, generator, torch::kLong).narrow(0, 0, kept), 1);
      return mask;
    };
    std::vector<torch::Tensor> head_masks, neuron_masks;
    for (int64_t l = 0; l < layers; ++l) {
      head_masks.push_back(keep(heads, l));
      neuron_masks.push_back(keep(ffn, l));
    }
    auto pruned = teacher->clone();
    kprune::apply_unit_masks(*pruned, torch::stack(head_masks), torch::stack(neuron_masks),
                             kprune::EmptySublayer::drop_bias);
    models.push_back(pruned);
  }
  for (auto& model : models) model->to(device);

  kprune::LatencyOptions options;
  options.batch_sizes = {batch};
  options.seq_lens = {seq};
  options.encoder_only = true;
  options.warmup = 0;
  options.repetitions = 1;
  for (auto& model : models) kprune::measure_latency(*model, options);  // warm-up
  std::vector<std::vector<double>> seconds(models.size());
  for (int r = 0; r < rounds; ++r) {
    for (size_t m = 0; m < models.size(); ++m) {
      seconds[m].push_back(kprune::measure_latency(*models[m], options).points[0].seconds[0]);
    }
  }

  fmt::print("device {}  intra-op threads {}  OpenBLAS threads {}  rounds {}\n", device.str(),
             plan.intra_op, plan.blas, rounds);
  const double teacher_s = median(seconds[0]);
  const double teacher_flops = kprune::model_flops(config, static_cast<double>(seq));
  fmt::print("teacher encoder L={} d={} H={} d_f={}, batch {} x length {}: {:.3f} s (median)\n",
             layers, hidden, heads, ffn, batch, seq, teacher_s);
  for (size_t i = 0; i < reductions.size(); ++i) {
    const auto& pruned_config = models[i + 1]->config();
    const double flops_ratio =
        teacher_flops / kprune::model_flops(pruned_config, static_cast<double>(seq));
    const double speedup = teacher_s / median(seconds[i + 1]);
    int64_t kept_heads = 0, kept_neurons = 0;
    for (int64_t h : pruned_config.heads_per_layer) kept_heads += h;
    for (int64_t f : pruned_config.neurons_per_layer) kept_neurons += f;
    fmt::print(
        "ρ {:.2f} (achieved {:.1f}% FLOPs removed; {} heads, {} neurons kept): {:.3f} s, "
        "speedup {:.3f}, FLOPs ratio {:.3f}, speedup / FLOPs ratio = {:.3f} (target ≥ 0.9: "
        "{})\n",
        reductions[i], 100 * (1 - 1 / flops_ratio), kept_heads, kept_neurons,
        median(seconds[i + 1]), speedup, flops_ratio, speedup / flops_ratio,
        speedup / flops_ratio >= 0.9 ? "met" : "MISSED");
  }
  return 0;
}
