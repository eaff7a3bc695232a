// Cost of the retraining baselines per training epoch, in units of one forward+backward pass of
// the teacher over the same tokens, beside K-prune's whole pruning cost in the same unit, all
// measured side by side in one run (retraining-baselines.md 4.1 estimates: DynaBERT stage 1
// 2.83 units per epoch, stage 2 6.0-7.0, EBERT 1). The methods run through their real code
// (framework/retrain, framework/prune) on random token rows of a random mini-bert-shaped teacher:
// one epoch = the rows once. Dev evaluations are excluded, as from pruning time.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <numeric>
#include <sstream>

#include "bench/bench_support.h"
#include "framework/model/device.h"
#include "framework/model/losses.h"
#include "framework/prune/pruner.h"
#include "framework/retrain/dynabert.h"
#include "framework/retrain/ebert.h"
#include "framework/tasks/task.h"
#include "framework/util/timer.h"

namespace {

// `count` rows of `length` random ids with alternating labels.
kprune::TaskSplit random_split(int64_t count, int64_t length, uint64_t seed) {
  kprune::TaskSplit split;
  split.task = &kprune::find_task("sst2");
  torch::manual_seed(seed);
  const torch::Tensor ids = torch::randint(1000, 30000, {count, length}, torch::kLong);
  for (int64_t i = 0; i < count; ++i) {
    kprune::Feature feature;
    feature.input_ids.assign(ids[i].data_ptr<int64_t>(), ids[i].data_ptr<int64_t>() + length);
    feature.input_ids.front() = 101;
    feature.input_ids.back() = 102;
    feature.token_type_ids.assign(static_cast<size_t>(length), 0);
    feature.label = static_cast<double>(i % 2);
    split.features.push_back(std::move(feature));
  }
  return split;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"DynaBERT and EBERT per epoch, and K-prune, in teacher forward+backward passes"};
  kprune::bench::ModelShape shape;
  shape.name = "mini-bert";
  shape.layers = 4, shape.hidden = 256, shape.heads = 4, shape.ffn = 1024;
  int64_t batches = 20, batch = 32, seq = 64, dev = 64;
  int threads = 1;
  std::string device_spec = "auto";
  shape.add_options(app);
  app.add_option("--batches", batches, "Training batches per epoch")->capture_default_str();
  app.add_option("--batch", batch)->capture_default_str();
  app.add_option("--seq", seq, "Tokens per row")->capture_default_str();
  app.add_option("--dev", dev, "Dev rows (DynaBERT's importance pass)")->capture_default_str();
  app.add_option("--threads", threads, "0: all cores")->capture_default_str();
  app.add_option("--device", device_spec)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const torch::Device device = kprune::parse_device(device_spec);
  const kprune::ThreadPlan plan = kprune::configure_threads(threads);
  const auto teacher = kprune::bench::random_bert(shape, device);
  const kprune::TaskSplit train = random_split(batches * batch, seq, 1);
  const kprune::TaskSplit dev_split = random_split(dev, seq, 2);
  const kprune::RetrainData data =
      kprune::make_retrain_data(kprune::find_task("sst2"), train, dev_split, seq, 0, 0);
  const std::string dir =
      (std::filesystem::temp_directory_path() / "kprune-bench-retrain").string();
  std::filesystem::remove_all(dir);
  fmt::print(
      "device {}, intra-op threads {}, OpenBLAS threads {}; shape L={} d={} H={} d_f={}; "
      "{} batches of {} x {} tokens per epoch\n",
      device.str(), plan.intra_op, plan.blas, shape.layers, shape.hidden, shape.heads, shape.ffn,
      batches, batch, seq);

  // The unit: forward + backward (parameter gradients) of the teacher over every batch, in
  // training mode (dropout), as a fine-tuning step without the optimizer.
  auto unit_model = teacher->clone();
  unit_model->train();
  std::vector<kprune::Batch> rows;
  for (int64_t b = 0; b < batches; ++b) {
    std::vector<int64_t> members(static_cast<size_t>(batch));
    std::iota(members.begin(), members.end(), b * batch);
    rows.push_back(data.train_batch(members).to(device));
  }
  kprune::supervised_loss(unit_model->forward(rows.front()), rows.front(),
                          kprune::HeadKind::classification)
      .backward();  // warm-up
  kprune::Stopwatch unit_clock;
  for (const kprune::Batch& b : rows) {
    unit_model->zero_grad();
    kprune::supervised_loss(unit_model->forward(b), b, kprune::HeadKind::classification).backward();
  }
  const double unit = unit_clock.seconds();
  fmt::print("unit: teacher forward+backward over the epoch's {} tokens: {:.2f} s\n",
             batches * batch * seq, unit);

  std::ostringstream log;
  kprune::Params dyna;
  dyna.set("epochs_stage1", "1");
  dyna.set("epochs_stage2", "1");
  dyna.set("evals_per_epoch", "1");
  dyna.set("save_every", "1000000");
  const kprune::DynabertTraining dynabert = kprune::train_dynabert(
      *teacher, data, kprune::dynabert_options(dyna, 0), dir + "/dynabert", log);
  const nlohmann::json& times = dynabert.record.at("times");
  const double stage1 = times.at("stage1_train").get<double>();
  const double stage2 = times.at("train").get<double>() - stage1;
  const double importance = times.at("importance").get<double>();

  kprune::Params eb;
  eb.set("epochs", "1");
  eb.set("evals_per_epoch", "1");
  eb.set("save_every", "1000000");
  const kprune::EbertTraining ebert =
      kprune::train_ebert(*teacher, data, kprune::ebert_options(eb, 0), 0.5, dir + "/ebert", log);

  auto pruned = teacher->clone();
  kprune::PruneInput input;
  std::vector<kprune::Batch> sample;
  for (const kprune::Batch& b : rows) sample.push_back(b.to(torch::kCPU));
  input.sample_batches = &sample;
  input.flops_reduction = 0.5;
  input.flops_seq_len = static_cast<double>(seq);
  input.device = device;
  const kprune::PruneReport kprune_report = kprune::run_pruner("kprune", *pruned, input);
  std::filesystem::remove_all(dir);

  fmt::print("DynaBERT importance ({} dev rows):  {:6.2f} s = {:5.2f} units\n", dev, importance,
             importance / unit);
  fmt::print("DynaBERT stage 1, per epoch:        {:6.2f} s = {:5.2f} units (estimate 2.83)\n",
             stage1, stage1 / unit);
  fmt::print("DynaBERT stage 2, per epoch:        {:6.2f} s = {:5.2f} units (estimate 6.0-7.0)\n",
             stage2, stage2 / unit);
  fmt::print("EBERT, per epoch:                   {:6.2f} s = {:5.2f} units (estimate 1)\n",
             ebert.train_seconds, ebert.train_seconds / unit);
  fmt::print("K-prune at 50 %, these tokens as its sample set: {:6.2f} s = {:5.2f} units\n",
             kprune_report.wall_seconds, kprune_report.wall_seconds / unit);
  fmt::print(
      "3 + 3 epochs of DynaBERT = {:.1f} units, 3 epochs of EBERT = {:.1f} units per target; "
      "multiply by |train tokens| / |sample tokens| to compare with K-prune on a task\n",
      3 * (stage1 + stage2) / unit + importance / unit, 3 * ebert.train_seconds / unit);
  return 0;
}
