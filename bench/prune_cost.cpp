// Cost of K-prune and Kwon et al. in units of one full forward+backward pass over the same
// sample set (issue 4), on a BERT-base-shaped and a mini random encoder, measured in one run.
// The unit pass is what the reference repeats 2L times: the whole model forward with all-ones
// mask variables on every feature column, the KL loss to the teacher, gradients of the masks
// only (parameters frozen). K-prune's unavoidable work is ~L + 1.2 such passes (suffix-only
// passes plus one teacher pass); target ≤ 1.15·(L + 1.2). Kwon's target: ≤ 2 units.
// Then the peak resident memory of the kprune program pruning the BERT-base shape with
// --memory-tokens (default 100K, the paper's sample size) beside the reference's teacher cache,
// 2L × tokens × d float32 (target: under half of it).
//
// With the default 100K tokens the BERT-base cost run takes about an hour on 2 CPU cores
// (~1.2 ms/token forward); pass --tokens for a shorter run.
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_support.h"
#include "framework/model/checkpoint.h"
#include "framework/model/device.h"
#include "framework/model/encoder.h"
#include "framework/prune/pruner.h"
#include "framework/util/error.h"
#include "framework/util/timer.h"

namespace {

using kprune::Batch;
using kprune::EncoderModel;
using kprune::Stopwatch;

// Batches of 32 sequences with lengths uniform in [ℓ/2, 3ℓ/2], each padded to its longest
// (as the GLUE sample set), random binary labels for Kwon's Fisher loss, until `tokens` real
// tokens are reached.
std::vector<Batch> sample_batches(int64_t tokens, int64_t mean_len, torch::Device device) {
  std::mt19937_64 rng(0);
  std::uniform_int_distribution<int64_t> length(mean_len / 2, mean_len * 3 / 2);
  std::vector<Batch> batches;
  for (int64_t total = 0; total < tokens;) {
    std::vector<int64_t> lengths(32);
    for (auto& l : lengths) l = length(rng);
    const int64_t longest = *std::max_element(lengths.begin(), lengths.end());
    Batch batch;
    batch.input_ids = torch::randint(1000, 30000, {32, longest}, torch::kLong);
    batch.attention_mask = torch::zeros({32, longest}, torch::kLong);
    for (int64_t i = 0; i < 32; ++i) {
      batch.attention_mask[i].narrow(0, 0, lengths[i]).fill_(1);
      total += lengths[i];
    }
    batch.input_ids *= batch.attention_mask;
    batch.token_type_ids = torch::zeros_like(batch.input_ids);
    batch.labels = torch::randint(0, 2, {32}, torch::kLong);
    batches.push_back(batch.to(device));
  }
  return batches;
}

// The reference's per-iteration pass over the whole sample set (see the header comment).
double unit_pass_seconds(const EncoderModel& model, const std::vector<Batch>& batches,
                         bool sync_cuda) {
  for (auto& p : model.parameters()) p.requires_grad_(false);
  Stopwatch clock;
  for (const Batch& batch : batches) {
    std::vector<torch::Tensor> masks;
    for (int64_t s = 0; s < model.num_sublayers(); ++s) {
      masks.push_back(
          torch::ones({model.sublayer(s).num_features()},
                      torch::TensorOptions().dtype(model.dtype()).device(model.device()))
              .requires_grad_(true));
    }
    kprune::ForwardOptions options;
    options.unit_masks = &masks;
    const auto logits = model.forward(batch, options).logits;
    const auto teacher = torch::softmax(logits.detach() / 2, 1);
    const auto loss =
        torch::kl_div(torch::log_softmax(logits / 2, 1), teacher, at::Reduction::Sum) * 4 /
        logits.size(0);
    torch::autograd::grad({loss}, masks);
  }
  if (sync_cuda) torch::cuda::synchronize();
  for (auto& p : model.parameters()) p.requires_grad_(true);
  return clock.seconds();
}

// Peak resident set of process `pid` (VmHWM) in MiB; 0 once it is gone.
double vm_hwm_mib(pid_t pid) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  }
  return 0;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The sample set as `kprune prune --sample-batches` reads it.
void write_sample_batches(const std::vector<Batch>& batches, const std::string& path) {
  std::ofstream out(path);
  auto rows = [](const torch::Tensor& t) {
    const torch::Tensor c = t.to(torch::kCPU, torch::kLong).contiguous();
    std::vector<std::vector<int64_t>> out;
    for (int64_t i = 0; i < c.size(0); ++i) {
      out.emplace_back(c[i].data_ptr<int64_t>(), c[i].data_ptr<int64_t>() + c.size(1));
    }
    return out;
  };
  for (const Batch& b : batches) {
    const torch::Tensor labels = b.labels.to(torch::kCPU, torch::kLong).contiguous();
    out << nlohmann::json{{"input_ids", rows(b.input_ids)},
                          {"token_type_ids", rows(b.token_type_ids)},
                          {"attention_mask", rows(b.attention_mask)},
                          {"labels",
                           std::vector<int64_t>(labels.data_ptr<int64_t>(),
                                                labels.data_ptr<int64_t>() + labels.numel())}}
               .dump()
        << "\n";
  }
}

// Peak resident memory of the real program, `kprune prune --pruner kprune --sample-batches
// --no-eval`, in a fresh process on a random checkpoint. Unless `full`, the child is stopped
// once its first iteration is done: that iteration measures the whole depth (the largest
// autograd graph) and the streams are allocated before it, so later ones hold less.
void kprune_memory(const kprune::bench::ModelShape& shape, int64_t tokens, int64_t mean_len,
                   double reduction, const std::string& mode, int threads, bool full) {
  const std::string dir = fmt::format("/tmp/kprune-bench-memory-{}", getpid());
  std::filesystem::create_directories(dir);
  const auto batches = sample_batches(tokens, mean_len, torch::kCPU);
  int64_t real_tokens = 0;
  for (const Batch& b : batches) real_tokens += b.attention_mask.sum().item<int64_t>();
  kprune::save_checkpoint(*kprune::bench::random_bert(shape, torch::kCPU), dir + "/model");
  write_sample_batches(batches, dir + "/samples.jsonl");
  const std::vector<std::string> args = {KPRUNE_BIN,
                                         "prune",
                                         "--checkpoint",
                                         dir + "/model",
                                         "--sample-batches",
                                         dir + "/samples.jsonl",
                                         "--no-eval",
                                         "--pruner",
                                         "kprune",
                                         "--flops-reduction",
                                         fmt::format("{}", reduction),
                                         "--flops-seq-len",
                                         std::to_string(mean_len),
                                         "--threads",
                                         std::to_string(threads),
                                         "--out",
                                         dir + "/pruned",
                                         "mode=" + mode};
  const std::string log = dir + "/stderr.txt";
  kprune::Stopwatch clock;
  const pid_t pid = fork();
  if (pid == 0) {
    if (!std::freopen(log.c_str(), "w", stderr) || !std::freopen("/dev/null", "w", stdout)) {
      _exit(127);
    }
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  double peak = 0;
  bool stopped = false;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    peak = std::max(peak, vm_hwm_mib(pid));
    if (!full && read_text(log).find("[kprune] 1/") != std::string::npos) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      stopped = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (!stopped && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
    kprune::fail("prune_cost: {} failed; its log: {}", KPRUNE_BIN, log);
  }
  const double cache = 2.0 * static_cast<double>(shape.layers * real_tokens * shape.hidden) * 4.0 /
                       (1024.0 * 1024.0);
  fmt::print(
      "\n== memory: kprune prune (K-prune mode={}) on {} with {} tokens, {}: peak RSS {:.0f} "
      "MiB in {:.0f} s\n   reference teacher cache alone 2L×tokens×d×4 B = {:.0f} MiB; "
      "peak/cache = {:.3f} (target < 0.5: {})\n",
      mode, shape.name, real_tokens,
      stopped ? "stopped after its first iteration (the full-depth one)" : "whole run", peak,
      clock.seconds(), cache, peak / cache, peak / cache < 0.5 ? "met" : "MISSED");
  std::filesystem::remove_all(dir);
}

double sum_seconds(const kprune::PruneReport& report, double kprune::SublayerReport::*field) {
  double total = 0;
  for (const auto& s : report.sublayers) total += s.*field;
  return total;
}

void run_shape(const kprune::bench::ModelShape& shape, int64_t tokens, int64_t mean_len,
               double reduction, const std::string& kprune_mode, torch::Device device) {
  const auto model = kprune::bench::random_bert(shape, device);
  const auto batches = sample_batches(tokens, mean_len, device);
  int64_t real_tokens = 0, padded = 0;
  for (const Batch& b : batches) {
    real_tokens += b.attention_mask.sum().item<int64_t>();
    padded += b.input_ids.numel();
  }
  fmt::print("\n== {}: L={} d={} H={} d_f={}; {} batches, {} tokens ({} padded), ℓ~{}\n",
             shape.name, shape.layers, shape.hidden, shape.heads, shape.ffn, batches.size(),
             real_tokens, padded, mean_len);
  const bool cuda = device.is_cuda();
  unit_pass_seconds(*model, {batches.front()}, cuda);  // warm-up
  const double unit_before = unit_pass_seconds(*model, batches, cuda);

  kprune::PruneInput input;
  input.sample_batches = &batches;
  input.flops_reduction = reduction;
  input.flops_seq_len = static_cast<double>(mean_len);
  input.device = device;
  input.params = kprune::Params::parse({"mode=" + kprune_mode});
  auto student = model->clone();
  const kprune::PruneReport kp = kprune::run_pruner("kprune", *student, input);

  input.params = kprune::Params::parse({"mode=" + kprune_mode});
  auto kwon_student = model->clone();
  const kprune::PruneReport kwon = kprune::run_pruner("kwon", *kwon_student, input);
  const double unit_after = unit_pass_seconds(*model, batches, cuda);

  const double unit = (unit_before + unit_after) / 2;
  const double target = 1.15 * (static_cast<double>(shape.layers) + 1.2);
  const double measure = sum_seconds(kp, &kprune::SublayerReport::measure_seconds);
  const double search = sum_seconds(kp, &kprune::SublayerReport::search_seconds);
  const double tune = sum_seconds(kp, &kprune::SublayerReport::tune_seconds);
  fmt::print("unit pass (forward + mask backward, whole set): {:.2f} s before, {:.2f} s after\n",
             unit_before, unit_after);
  fmt::print("K-prune mode={} ρ={}: {:.2f} s = {:.2f} units (target ≤ 1.15·(L+1.2) = {:.2f}: {})\n",
             kprune_mode, reduction, kp.wall_seconds, kp.wall_seconds / unit, target,
             kp.wall_seconds / unit <= target ? "met" : "MISSED");
  fmt::print(
      "  phases: measurement {:.2f} s ({:.2f} units), search {:.2f} s, tuning {:.2f} s, "
      "rest {:.2f} s\n",
      measure, measure / unit, search, tune, kp.wall_seconds - measure - search - tune);
  const nlohmann::json& kwon_seconds = kwon.details.at("seconds");
  fmt::print(
      "Kwon mode={}: {:.2f} s = {:.2f} units (target ≤ 2: {}); fisher {:.2f} s, search "
      "{:.2f} s, rearrange {:.2f} s, tuning {:.2f} s\n",
      kprune_mode, kwon.wall_seconds, kwon.wall_seconds / unit,
      kwon.wall_seconds / unit <= 2 ? "met" : "MISSED", kwon_seconds.at("fisher").get<double>(),
      kwon_seconds.at("search").get<double>(), kwon_seconds.at("rearrange").get<double>(),
      kwon_seconds.at("tune").get<double>());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"K-prune and Kwon cost in units of one forward+backward pass, and peak memory"};
  int64_t tokens = 100000, mini_tokens = 100000, seq = 64;
  double reduction = 0.5;
  std::string mode = "clean", device_spec = "auto", only;
  int threads = 0;
  int64_t memory_tokens = 100000;
  bool memory_full = false;
  app.add_option("--tokens", tokens, "Sample tokens for the BERT-base shape")
      ->capture_default_str();
  app.add_option("--memory-tokens", memory_tokens,
                 "Sample tokens of the BERT-base memory run (0: no memory run)")
      ->capture_default_str();
  app.add_flag("--memory-full", memory_full,
               "Run the memory child to the end (default: stop after its first iteration)");
  app.add_option("--mini-tokens", mini_tokens, "Sample tokens for the mini shape")
      ->capture_default_str();
  app.add_option("--seq", seq, "Mean sequence length ℓ (lengths uniform in [ℓ/2, 3ℓ/2])")
      ->capture_default_str();
  app.add_option("--flops-reduction", reduction)->capture_default_str();
  app.add_option("--mode", mode, "ref or clean (both pruners)")->capture_default_str();
  app.add_option("--only", only, "base or mini: run one shape")
      ->check(CLI::IsMember({"base", "mini"}));
  app.add_option("--threads", threads, "0: all cores")->capture_default_str();
  app.add_option("--device", device_spec)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const kprune::ThreadPlan plan = kprune::configure_threads(threads);
  const torch::Device device = kprune::parse_device(device_spec);
  fmt::print("device {}  intra-op threads {}  OpenBLAS threads {}\n", device.str(), plan.intra_op,
             plan.blas);
  if (only != "mini")
    run_shape({"bert-base", 12, 768, 12, 3072}, tokens, seq, reduction, mode, device);
  if (only != "base")
    run_shape({"mini", 4, 256, 4, 1024}, mini_tokens, seq, reduction, mode, device);
  if (memory_tokens > 0 && device.is_cpu()) {
    kprune_memory({"bert-base", 12, 768, 12, 3072}, memory_tokens, seq, reduction, mode, threads,
                  memory_full);
  }
  return 0;
}
