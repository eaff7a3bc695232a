// Training throughput in fp32 and in bf16 mixed precision, side by side in one run: the MLM
// pretraining step (`pretrain`) and the classification fine-tuning step (`finetune`) of a
// mini-bert-shaped encoder (4 layers, hidden 256) on random tokens, plus the GEMM rate of both
// dtypes. The ratios say what `--precision bf16` buys on this machine.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>

#include "bench/bench_support.h"
#include "framework/model/device.h"
#include "framework/model/mlm_head.h"
#include "framework/tasks/task.h"
#include "framework/train/finetune.h"
#include "framework/train/pretrain.h"
#include "framework/util/timer.h"

namespace {

using kprune::Precision;

double gemm_rate(int64_t m, int64_t k, int64_t n, torch::ScalarType dtype, torch::Device device) {
  const auto options = torch::TensorOptions().dtype(dtype).device(device);
  const torch::Tensor a = torch::randn({m, k}, options), b = torch::randn({k, n}, options);
  torch::mm(a, b);
  kprune::Stopwatch clock;
  const int repeats = 10;
  for (int i = 0; i < repeats; ++i) torch::mm(a, b);
  if (device.is_cuda()) torch::cuda::synchronize();
  return 2.0 * double(m) * double(k) * double(n) * repeats / clock.seconds();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Training tokens/s in fp32 and bf16 mixed precision, side by side"};
  kprune::bench::ModelShape shape;
  shape.name = "mini-bert";
  shape.layers = 4, shape.hidden = 256, shape.heads = 4, shape.ffn = 1024;
  int64_t batch = 32, seq = 64, steps = 20;
  int threads = 1;
  std::string device_spec = "auto";
  shape.add_options(app);
  app.add_option("--batch", batch)->capture_default_str();
  app.add_option("--seq", seq)->capture_default_str();
  app.add_option("--steps", steps, "Timed steps per measurement")->capture_default_str();
  app.add_option("--threads", threads, "0: all cores")->capture_default_str();
  app.add_option("--device", device_spec)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const torch::Device device = kprune::parse_device(device_spec);
  const std::string dir =
      (std::filesystem::temp_directory_path() / "kprune-bench-precision").string();
  std::filesystem::create_directories(dir);
  fmt::print("device {}  shape L={} d={} H={} d_f={}  batch {} x length {}\n", device.str(),
             shape.layers, shape.hidden, shape.heads, shape.ffn, batch, seq);

  std::map<Precision, double> gemm, pretrain_rate, finetune_rate;
  for (const Precision precision : {Precision::fp32, Precision::bf16}) {
    const kprune::ThreadPlan plan = kprune::configure_threads(threads, precision);
    gemm[precision] =
        gemm_rate(batch * seq, shape.hidden, shape.ffn,
                  precision == Precision::bf16 ? torch::kBFloat16 : torch::kFloat32, device);
    // Pretraining: the real loop on random rows (15% of them predicted).
    auto encoder = kprune::bench::random_bert(shape, device);
    kprune::MlmHead head(encoder->config(), 1);
    kprune::MlmMasking masking;
    masking.mask_id = 103;
    masking.vocab_size = 30522;
    masking.special_ids = {0, 101, 102};
    const torch::Tensor rows =
        torch::randint(1000, 30000, {batch * (steps + 2), seq}, torch::kLong);
    kprune::PretrainOptions pretrain;
    pretrain.batch_size = batch;
    pretrain.max_steps = steps;
    pretrain.save_every = 0;
    pretrain.device = device;
    pretrain.precision = precision;
    const std::string state = dir + "/state-" + kprune::precision_name(precision) + ".pt";
    std::filesystem::remove(state);
    pretrain_rate[precision] =
        kprune::pretrain(*encoder, head, rows, masking, pretrain, state, "bench").tokens_per_second;
    std::filesystem::remove(state);

    // Fine-tuning: SST-2-sized rows of `seq` tokens, no dev evaluation.
    std::vector<kprune::Feature> features(static_cast<size_t>(batch * steps));
    for (size_t i = 0; i < features.size(); ++i) {
      const torch::Tensor ids = torch::randint(1000, 30000, {seq}, torch::kLong);
      features[i].input_ids.assign(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + seq);
      features[i].token_type_ids.assign(static_cast<size_t>(seq), 0);
      features[i].label = static_cast<double>(i % 2);
    }
    kprune::FinetuneOptions finetune;
    finetune.batch_size = batch;
    finetune.max_steps = steps;
    finetune.eval_every = 0;
    finetune.device = device;
    finetune.precision = precision;
    auto classifier = kprune::bench::random_bert(shape, device);
    finetune_rate[precision] =
        kprune::finetune(*classifier, kprune::find_task("sst2"), features, {}, finetune, {})
            .tokens_per_second;
    fmt::print(
        "{}: intra-op threads {}, OpenBLAS threads {}; GEMM [{}x{}]x[{}x{}] {:.1f} GFLOP/s, "
        "pretrain {:.0f} tokens/s, fine-tune {:.0f} tokens/s\n",
        kprune::precision_name(precision), plan.intra_op, plan.blas, batch * seq, shape.hidden,
        shape.hidden, shape.ffn, gemm[precision] / 1e9, pretrain_rate[precision],
        finetune_rate[precision]);
  }
  fmt::print("ratio bf16 / fp32: GEMM {:.2f}, pretrain {:.2f}, fine-tune {:.2f}\n",
             gemm[Precision::bf16] / gemm[Precision::fp32],
             pretrain_rate[Precision::bf16] / pretrain_rate[Precision::fp32],
             finetune_rate[Precision::bf16] / finetune_rate[Precision::fp32]);
  return 0;
}
