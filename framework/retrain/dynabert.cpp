#include "framework/retrain/dynabert.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "framework/model/checkpoint.h"
#include "framework/model/flops.h"
#include "framework/model/losses.h"
#include "framework/retrain/retrain_method.h"
#include "framework/tasks/evaluate.h"
#include "framework/train/trainer.h"
#include "framework/util/error.h"
#include "framework/util/files.h"
#include "framework/util/timer.h"

namespace kprune {
namespace {

namespace fs = std::filesystem;

std::vector<Multiplier> parse_multipliers(const std::string& text, const std::string& key) {
  std::vector<Multiplier> out;
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    const Multiplier m = Multiplier::parse(item, key);
    if (m.numerator == 0 || m.numerator > m.denominator) {
      fail("{}: multiplier {} is outside (0, 1]", key, item);
    }
    out.push_back(m);
  }
  if (out.empty()) fail("{}: no multiplier given (e.g. {}=1,0.5)", key, key);
  std::sort(out.begin(), out.end(),
            [](Multiplier a, Multiplier b) { return a.value() > b.value(); });
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i].value() == out[i - 1].value()) fail("{}: {} is given twice", key, out[i].text());
  }
  return out;
}

struct Pair {
  Multiplier width, depth;
  Subnetwork subnetwork;
  std::string key;
  double flops_reduction = 0;
};

// Every (width, depth) of the grid, widths and depths descending.
std::vector<Pair> all_pairs(const EncoderConfig& config, const DynabertOptions& options,
                            double seq_len) {
  const double full = full_model_flops(config, seq_len);
  std::vector<Pair> pairs;
  for (const Multiplier& depth : options.depths) {
    for (const Multiplier& width : options.widths) {
      Pair pair{width, depth, Subnetwork::dynabert(config, width, depth),
                subnetwork_key(width, depth)};
      pair.flops_reduction = 1.0 - subnetwork_flops(config, pair.subnetwork, seq_len) / full;
      pairs.push_back(std::move(pair));
    }
  }
  return pairs;
}

using Curves = std::map<std::string, LearningCurve>;

nlohmann::json curves_to_json(const Curves& curves) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, curve] : curves) out[key] = curve_to_json(curve);
  return out;
}

Curves curves_from_json(const nlohmann::json& json, const std::string& origin) {
  Curves curves;
  for (const auto& [key, curve] : json.items()) curves[key] = curve_from_json(curve, origin);
  return curves;
}

void write_json(const fs::path& path, const nlohmann::json& json) {
  const fs::path temporary = path.string() + ".tmp";
  std::ofstream(temporary) << json.dump(1) << "\n";
  fs::rename(temporary, path);
}

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot read", path.string());
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& error) {
    fail("{}: not valid JSON ({})", path.string(), error.what());
  }
}

std::vector<std::vector<int64_t>> orders_from_json(const nlohmann::json& json) {
  return json.get<std::vector<std::vector<int64_t>>>();
}

// The state of one DynaBERT training between its stages.
struct Progress {
  Curves curves;
  double importance_seconds = 0;
  TrainingTimes finished_stages;  // times of the stages already done
  int64_t finished_steps = 0;
  bool stopped_early = false;
};

class DynabertTrainer {
 public:
  DynabertTrainer(const EncoderModel& teacher, const RetrainData& data,
                  const DynabertOptions& options, const std::string& dir, std::ostream& log)
      : teacher_(teacher),
        data_(data),
        options_(options),
        dir_(dir),
        log_(log),
        device_(teacher.device()),
        pairs_(all_pairs(teacher.config(), options, data.flops_seq_len)) {}

  DynabertTraining run();

 private:
  std::vector<Batch> importance_batches() const;
  nlohmann::json importance_step();
  // Dev metric of every sub-network of the grid, appended to the curves as one checkpoint.
  void checkpoint(EncoderModel& student, int stage, int64_t step, const TrainingTimes& times,
                  double eval_seconds_before);
  // Trains `student` through `stage` (resuming its saved state); false when stop_after ended
  // the run first.
  bool run_stage(int stage, const EncoderModel& stage_teacher, EncoderModel& student);
  double pruning_seconds(const TrainingTimes& current) const {
    return progress_.importance_seconds + progress_.finished_stages.train + current.train;
  }
  void save_stage_record(const fs::path& path) const;
  void load_stage_record(const fs::path& path);

  const EncoderModel& teacher_;
  const RetrainData& data_;
  const DynabertOptions& options_;
  fs::path dir_;
  std::ostream& log_;
  torch::Device device_;
  std::vector<Pair> pairs_;
  Progress progress_;
};

std::vector<Batch> DynabertTrainer::importance_batches() const {
  if (options_.importance_on_dev) return data_.dev_batches(options_.importance_batch);
  // A seeded sample of the training set, of the dev set's size.
  const std::vector<int64_t> order = seeded_permutation(data_.train_examples, options_.seed);
  const size_t size = std::min(order.size(), data_.dev->features.size());
  std::vector<Batch> batches;
  for (size_t start = 0; start < size; start += static_cast<size_t>(options_.importance_batch)) {
    const size_t end = std::min(size, start + static_cast<size_t>(options_.importance_batch));
    batches.push_back(
        data_.train_batch(std::vector<int64_t>(order.begin() + static_cast<std::ptrdiff_t>(start),
                                               order.begin() + static_cast<std::ptrdiff_t>(end))));
  }
  return batches;
}

nlohmann::json DynabertTrainer::importance_step() {
  const fs::path path = dir_ / "importance.json";
  if (fs::exists(path)) return read_json(path);
  Stopwatch clock;
  auto model = teacher_.clone();
  const std::vector<Batch> batches = importance_batches();
  const UnitImportance importance =
      unit_importance(*model, batches, data_.task->head_kind, options_.importance_gradient);
  const Rewiring rewiring = rewire(*model, importance);
  const double seconds = clock.seconds();
  log_ << fmt::format("importance on {} ({} batches of {}, {} gradients) and rewiring: {:.2f} s\n",
                      options_.importance_on_dev ? "dev" : "a training sample", batches.size(),
                      options_.importance_batch,
                      importance_gradient_name(options_.importance_gradient), seconds);
  auto as_rows = [](const torch::Tensor& t) {
    const torch::Tensor c = t.to(torch::kCPU, torch::kFloat64).contiguous();
    std::vector<std::vector<double>> rows;
    for (int64_t r = 0; r < c.size(0); ++r) {
      rows.emplace_back(c[r].data_ptr<double>(), c[r].data_ptr<double>() + c.size(1));
    }
    return rows;
  };
  nlohmann::json record = {{"seconds", seconds},
                           {"data", options_.importance_on_dev ? "dev" : "train_sample"},
                           {"gradient", importance_gradient_name(options_.importance_gradient)},
                           {"batches", batches.size()},
                           {"head_importance", as_rows(importance.heads)},
                           {"neuron_importance", as_rows(importance.neurons)},
                           {"head_order", rewiring.heads},
                           {"neuron_order", rewiring.neurons}};
  // The rewired teacher before any training: the curves' first point.
  progress_.importance_seconds = seconds;
  checkpoint(*model, 1, 0, TrainingTimes{}, 0);
  record["curves"] = curves_to_json(progress_.curves);
  write_json(path, record);
  return record;
}

void DynabertTrainer::checkpoint(EncoderModel& student, int stage, int64_t step,
                                 const TrainingTimes& times, double eval_seconds_before) {
  Stopwatch clock;
  EvalModeGuard eval_mode(student);
  std::string shown;
  std::map<std::string, double> metrics;
  for (const Pair& pair : pairs_) {
    ForwardOptions forward;
    forward.subnetwork = &pair.subnetwork;
    const EvalResult result =
        evaluate_forward([&](const Batch& batch) { return student.forward(batch, forward); },
                         *data_.task, data_.dev->features, 128, device_);
    metrics[pair.key] = result.metrics.at(data_.task->main_metric);
  }
  const double eval_seconds = eval_seconds_before + clock.seconds();
  for (const Pair& pair : pairs_) {
    CurvePoint point;
    point.stage = stage;
    point.step = progress_.finished_steps + step;
    point.importance_seconds = progress_.importance_seconds;
    point.train_seconds = progress_.finished_stages.train + times.train;
    point.eval_seconds = eval_seconds;
    point.io_seconds = progress_.finished_stages.io + times.io;
    point.metric = metrics[pair.key];
    point.flops_reduction = pair.flops_reduction;
    progress_.curves[pair.key].push_back(point);
    shown += fmt::format(" [{}] {:.2f}", pair.key, point.metric);
  }
  log_ << fmt::format("stage {} step {} (pruning time {:.1f} s) dev {}:{}\n", stage,
                      progress_.finished_steps + step, pruning_seconds(times),
                      data_.task->main_metric, shown);
  log_.flush();
}

bool DynabertTrainer::run_stage(int stage, const EncoderModel& stage_teacher,
                                EncoderModel& student) {
  const int64_t steps_per_epoch = data_.train_examples / options_.batch_size;
  const double epochs = stage == 1 ? options_.epochs_stage1 : options_.epochs_stage2;
  TrainerOptions loop;
  loop.name = fmt::format("dynabert stage {}", stage);
  loop.examples = data_.train_examples;
  loop.batch_size = options_.batch_size;
  loop.max_steps = std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil(epochs * static_cast<double>(steps_per_epoch))));
  loop.max_grad_norm = 1.0;
  loop.seed = options_.seed;
  loop.checkpoint_every = std::max<int64_t>(1, steps_per_epoch / options_.evals_per_epoch);
  loop.save_every = options_.save_every;
  loop.state_path = (dir_ / fmt::format("stage{}-state.pt", stage)).string();
  loop.fingerprint = fmt::format("dynabert stage {} examples {} batch {} steps {}", stage,
                                 data_.train_examples, options_.batch_size, loop.max_steps);
  loop.device = device_;
  if (options_.stop_after > 0) {
    if (options_.stop_after <= progress_.finished_steps) return false;
    loop.stop_after = options_.stop_after - progress_.finished_steps;
  }

  ParameterGroup group;
  group.parameters = student.named_parameters();
  group.adamw = {options_.learning_rate, 0.0, 1e-8};

  // D5: the weights with the best sum of dev metrics over the stage's sub-networks.
  double best_sum = -INFINITY;
  const fs::path best_path = dir_ / fmt::format("stage{}-best.pt", stage);
  TrainingCallbacks callbacks;
  callbacks.step = [&](const std::vector<int64_t>& members, int64_t) {
    const Batch batch = data_.train_batch(members).to(device_);
    const double loss =
        dynabert_step(stage, student, stage_teacher, batch, data_.task->head_kind, options_);
    return StepOutcome{loss, batch.attention_mask.sum().item<int64_t>()};
  };
  callbacks.checkpoint = [&](int64_t step, const TrainingTimes& times) {
    checkpoint(student, stage, step, times,
               progress_.finished_stages.checkpoint + times.checkpoint);
    if (!options_.select_on_dev) return;
    double sum = 0;
    for (const Pair& pair : pairs_) {
      if (stage == 2 || pair.depth.numerator == pair.depth.denominator) {
        sum += progress_.curves[pair.key].back().metric;
      }
    }
    if (sum > best_sum) {
      best_sum = sum;
      torch::serialize::OutputArchive archive;
      student.save(archive);
      archive.save_to(best_path.string());
    }
  };
  callbacks.save_extra = [&] {
    return nlohmann::json{{"curves", curves_to_json(progress_.curves)}, {"best_sum", best_sum}}
        .dump();
  };
  callbacks.load_extra = [&](const std::string& text) {
    const nlohmann::json json = nlohmann::json::parse(text);
    progress_.curves = curves_from_json(json.at("curves"), loop.state_path);
    best_sum = json.at("best_sum").is_number() ? json.at("best_sum").get<double>() : -INFINITY;
  };
  if (options_.max_wall_s > 0) {
    callbacks.stop_early = [&](const TrainingTimes& times) {
      return pruning_seconds(times) >= options_.max_wall_s;
    };
  }
  const TrainerResult result = run_training({{"student", &student}}, {group}, loop, callbacks);
  if (!result.finished && !result.stopped_early) return false;  // stop_after: a run in parts
  if (options_.select_on_dev && fs::exists(best_path)) {
    torch::serialize::InputArchive archive;
    archive.load_from(best_path.string(), device_);
    student.load(archive);
  }
  progress_.finished_stages.train += result.times.train;
  progress_.finished_stages.checkpoint += result.times.checkpoint;
  progress_.finished_stages.io += result.times.io;
  progress_.finished_steps += result.steps;
  progress_.stopped_early = result.stopped_early;
  log_ << fmt::format("stage {}: {} steps, training {:.1f} s, dev evaluations {:.1f} s{}\n", stage,
                      result.steps, result.times.train, result.times.checkpoint,
                      result.stopped_early ? " (stopped at max_wall_s)" : "");
  return true;
}

void DynabertTrainer::save_stage_record(const fs::path& path) const {
  write_json(path, {{"curves", curves_to_json(progress_.curves)},
                    {"importance_seconds", progress_.importance_seconds},
                    {"train_seconds", progress_.finished_stages.train},
                    {"eval_seconds", progress_.finished_stages.checkpoint},
                    {"io_seconds", progress_.finished_stages.io},
                    {"steps", progress_.finished_steps},
                    {"stopped_early", progress_.stopped_early}});
}

void DynabertTrainer::load_stage_record(const fs::path& path) {
  const nlohmann::json json = read_json(path);
  progress_.curves = curves_from_json(json.at("curves"), path.string());
  progress_.importance_seconds = json.at("importance_seconds").get<double>();
  progress_.finished_stages = {json.at("train_seconds").get<double>(),
                               json.at("eval_seconds").get<double>(),
                               json.at("io_seconds").get<double>()};
  progress_.finished_steps = json.at("steps").get<int64_t>();
  progress_.stopped_early = json.at("stopped_early").get<bool>();
}

DynabertTraining DynabertTrainer::run() {
  const fs::path record_path = dir_ / "dynabert.json";
  if (fs::exists(record_path)) return {dir_.string(), true, read_json(record_path)};
  fs::create_directories(dir_);

  const nlohmann::json importance = importance_step();
  progress_.importance_seconds = importance.at("seconds").get<double>();
  progress_.curves = curves_from_json(importance.at("curves"), "importance.json");

  const fs::path stage1_dir = dir_ / "stage1", stage1_record = dir_ / "stage1.json";
  const DynabertTraining unfinished{dir_.string(), false, {{"finished", false}}};
  if (!fs::exists(stage1_record)) {
    auto student = teacher_.clone();
    const auto head_order = orders_from_json(importance.at("head_order"));
    const auto neuron_order = orders_from_json(importance.at("neuron_order"));
    for (size_t layer = 0; layer < head_order.size(); ++layer) {
      student->sublayer(2 * static_cast<int64_t>(layer)).permute_units(head_order[layer]);
      student->sublayer(2 * static_cast<int64_t>(layer) + 1).permute_units(neuron_order[layer]);
    }
    if (!run_stage(1, teacher_, *student)) return unfinished;
    save_checkpoint(*student, stage1_dir.string());
    save_stage_record(stage1_record);
    fs::remove(dir_ / "stage1-state.pt");
  } else {
    load_stage_record(stage1_record);
  }

  // Stage 2 starts from the saved stage-1 model whether or not the run was interrupted, so
  // that a resumed training computes exactly what an uninterrupted one does.
  auto final_model = load_checkpoint(stage1_dir.string(), device_);
  const nlohmann::json stage1 = read_json(stage1_record);
  if (!progress_.stopped_early && options_.epochs_stage2 > 0) {
    const auto stage_teacher = load_checkpoint(stage1_dir.string(), device_);
    if (!run_stage(2, *stage_teacher, *final_model)) return unfinished;
    fs::remove(dir_ / "stage2-state.pt");
  }
  save_checkpoint(*final_model, (dir_ / "model").string());

  nlohmann::json record = importance;
  record.erase("curves");
  const TrainingTimes& times = progress_.finished_stages;
  DynabertTraining out{dir_.string(),
                       true,
                       {{"finished", true},
                        {"stopped_early", progress_.stopped_early},
                        {"importance", record},
                        {"stage1_steps", stage1.at("steps")},
                        {"steps", progress_.finished_steps},
                        {"times",
                         {{"importance", progress_.importance_seconds},
                          {"stage1_train", stage1.at("train_seconds")},
                          {"train", times.train},
                          {"eval", times.checkpoint},
                          {"io", times.io},
                          {"pruning", progress_.importance_seconds + times.train}}},
                        {"curves", curves_to_json(progress_.curves)}}};
  write_json(record_path, out.record);
  return out;
}

}  // namespace

double dynabert_step(int stage, EncoderModel& student, const EncoderModel& stage_teacher,
                     const Batch& batch, HeadKind kind, const DynabertOptions& options) {
  const int64_t layers = student.config().num_layers;
  const std::vector<Multiplier> depths =
      stage == 1 ? std::vector<Multiplier>{Multiplier{1, 1}} : options.depths;
  const bool distill = stage == 2 || options.stage1_distill;
  const double lambda_logits = stage == 1 ? options.lambda1_stage1 : options.lambda1_stage2;
  const double lambda_hidden = stage == 1 ? options.lambda2_stage1 : options.lambda2_stage2;

  ForwardOptions hidden;
  hidden.output_hidden_states = true;
  std::map<std::string, ModelOutput> targets;  // by width (matched) or "" (the full teacher)
  auto target_for = [&](const Multiplier& width) -> const ModelOutput& {
    const bool matched = stage == 2 && options.teacher_matched;
    const std::string key = matched ? width.text() : "";
    auto found = targets.find(key);
    if (found != targets.end()) return found->second;
    torch::NoGradGuard no_grad;
    ForwardOptions forward = hidden;
    const Subnetwork sub = Subnetwork::dynabert(stage_teacher.config(), width, Multiplier{1, 1});
    if (matched) forward.subnetwork = &sub;
    PrecisionScope precision(options.precision, student.device());
    return targets.emplace(key, stage_teacher.forward(batch, forward)).first->second;
  };

  double total = 0;
  for (const Multiplier& depth : depths) {
    for (const Multiplier& width : options.widths) {
      const Subnetwork sub = Subnetwork::dynabert(student.config(), width, depth);
      ForwardOptions forward = hidden;
      forward.subnetwork = &sub;
      torch::Tensor loss;
      {
        PrecisionScope precision(options.precision, student.device());
        const ModelOutput out = student.forward(batch, forward);
        loss = distill ? distillation_loss(out, target_for(width),
                                           hidden_state_index(sub.layers, layers), kind,
                                           options.regression_logits, lambda_logits, lambda_hidden)
                       : supervised_loss(out, batch, kind);
      }
      loss.backward();
      total += loss.item<double>();
    }
  }
  return total;
}

DynabertOptions dynabert_options(const Params& p, uint64_t seed) {
  DynabertOptions o;
  o.widths = parse_multipliers(p.get_string("widths", "1,0.75,0.5,0.25"), "widths");
  o.depths = parse_multipliers(p.get_string("depths", "1,0.75,0.5"), "depths");
  o.epochs_stage1 = p.get_double("epochs_stage1", o.epochs_stage1);
  o.epochs_stage2 = p.get_double("epochs_stage2", o.epochs_stage2);
  o.learning_rate = p.get_double("lr", o.learning_rate);
  o.batch_size = p.get_int("batch_size", o.batch_size);
  o.lambda1_stage1 = p.get_double("lambda1_stage1", o.lambda1_stage1);
  o.lambda2_stage1 = p.get_double("lambda2_stage1", o.lambda2_stage1);
  o.lambda1_stage2 = p.get_double("lambda1_stage2", o.lambda1_stage2);
  o.lambda2_stage2 = p.get_double("lambda2_stage2", o.lambda2_stage2);
  o.stage1_distill = p.get_choice("stage1_distill", "always", {"always", "ref"}) == "always";
  o.teacher_matched = p.get_choice("teacher_width", "full", {"full", "matched"}) == "matched";
  o.importance_on_dev = p.get_choice("importance_data", "dev", {"dev", "train_sample"}) == "dev";
  o.importance_gradient = parse_importance_gradient(p.get_string("importance_grad", "cumulative"));
  o.importance_batch = p.get_int("importance_batch", o.importance_batch);
  o.regression_logits = p.get_choice("regression_logits", "none", {"none", "mse"}) == "mse"
                            ? RegressionLogitLoss::mse
                            : RegressionLogitLoss::none;
  o.select_on_dev = p.get_bool("select_on_dev", o.select_on_dev);
  read_training_run_options(p, seed, "dynabert", o);
  if (!(o.epochs_stage1 > 0) || !(o.epochs_stage2 >= 0)) {
    fail("dynabert: epochs_stage1 must be positive and epochs_stage2 non-negative (got {} and {})",
         o.epochs_stage1, o.epochs_stage2);
  }
  if (o.batch_size < 1 || o.importance_batch < 1) {
    fail("dynabert: batch_size and importance_batch must be positive (got {} and {})", o.batch_size,
         o.importance_batch);
  }
  return o;
}

std::string subnetwork_key(Multiplier width, Multiplier depth) {
  return fmt::format("w={} d={}", width.text(), depth.text());
}

DynabertTraining train_dynabert(const EncoderModel& teacher, const RetrainData& data,
                                const DynabertOptions& options, const std::string& dir,
                                std::ostream& log) {
  const EncoderConfig& config = teacher.config();
  // Every multiplier must name a sub-network of this teacher (a width that leaves no head is an
  // error here, before any training).
  for (const Multiplier& width : options.widths) width_heads(config.num_heads, width);
  for (const Multiplier& depth : options.depths) depth_layers(config.num_layers, depth);
  if (data.train_examples < options.batch_size) {
    fail("dynabert: {} training examples, fewer than one batch of {}", data.train_examples,
         options.batch_size);
  }
  DynabertTrainer trainer(teacher, data, options, dir, log);
  return trainer.run();
}

DynabertVariant parse_dynabert_variant(const std::string& text) {
  if (text == "w") return DynabertVariant::width;
  if (text == "d") return DynabertVariant::depth;
  fail(
      "dynabert variant '{}': expected w (width: sub-networks (m_w, 1)) or d (depth: (m_w, m_d) "
      "with m_d < 1)",
      text);
}

DynabertChoice choose_subnetwork(const EncoderConfig& config, const DynabertOptions& options,
                                 DynabertVariant variant, double target, double seq_len) {
  const std::vector<Pair> pairs = all_pairs(config, options, seq_len);
  const Pair* best = nullptr;
  const Pair* nearest = nullptr;  // the most compressed candidate, for the message
  constexpr double kTolerance = 1e-9;
  for (const Pair& pair : pairs) {
    const bool full_depth = pair.depth.numerator == pair.depth.denominator;
    if ((variant == DynabertVariant::width) != full_depth) continue;
    if (nearest == nullptr || pair.flops_reduction > nearest->flops_reduction) nearest = &pair;
    if (pair.flops_reduction + kTolerance < target) continue;
    if (best == nullptr || pair.flops_reduction < best->flops_reduction - kTolerance ||
        (std::abs(pair.flops_reduction - best->flops_reduction) <= kTolerance &&
         pair.depth.value() > best->depth.value())) {
      best = &pair;
    }
  }
  const std::string name = variant == DynabertVariant::width ? "DynaBERT-w" : "DynaBERT-d";
  if (nearest == nullptr) {
    fail("{}: the trained multipliers have no {} sub-network (widths {}, depths {})", name,
         variant == DynabertVariant::width ? "full-depth" : "reduced-depth", options.widths.size(),
         options.depths.size());
  }
  if (best == nullptr) {
    fail(
        "{}: no trained sub-network removes {:.1f} % of the FLOPs; the nearest is {} at {:.1f} % "
        "(add a smaller multiplier to widths/depths if the model allows it)",
        name, 100 * target, nearest->key, 100 * nearest->flops_reduction);
  }
  return {best->width, best->depth, best->subnetwork, best->flops_reduction};
}

RetrainMethod dynabert_method() {
  RetrainMethod method;
  method.name = "dynabert";
  method.description =
      "DynaBERT (Hou et al., 2020): importance rewiring, width-adaptive then width- and "
      "depth-adaptive distillation; one training serves every target (retraining-baselines.md 1)";
  method.params = {
      {"variant", "w",
       "w: sub-networks (m_w, 1) (DynaBERT-w); d: (m_w, m_d), m_d < 1 (DynaBERT-d)"},
      {"widths", "1,0.75,0.5,0.25", "width multipliers trained in both stages"},
      {"depths", "1,0.75,0.5", "depth multipliers trained in stage 2"},
      {"epochs_stage1", "3", "epochs of stage 1"},
      {"epochs_stage2", "3", "epochs of stage 2 (0: stage 1 only)"},
      {"lr", "2e-05", "AdamW learning rate, linear decay to 0, no warmup or weight decay"},
      {"batch_size", "32", "training batch (one optimizer step over every sub-network)"},
      {"lambda1_stage1", "1", "logit term of the stage-1 loss"},
      {"lambda2_stage1", "0.1", "hidden-state term of the stage-1 loss"},
      {"lambda1_stage2", "1", "logit term of the stage-2 loss"},
      {"lambda2_stage2", "1", "hidden-state term of the stage-2 loss"},
      {"stage1_distill", "always", "always: stage 1 distils (CLEAN); ref: task loss (D3, no DA)"},
      {"teacher_width", "full", "stage-2 teacher: full (REF, D4) or matched to the student width"},
      {"importance_data", "dev", "dev (REF) or train_sample (a training sample of dev's size)"},
      {"importance_grad", "cumulative", "cumulative (REF, D1) or per_batch gradients"},
      {"importance_batch", "8", "batch size of the importance pass"},
      {"regression_logits", "none", "regression logit loss: none (REF, D2) or mse"},
      {"select_on_dev", "false", "true: each stage keeps its best dev checkpoint (REF, D5)"},
  };
  for (const PrunerParam& param : common_training_params()) method.params.push_back(param);
  method.per_target_params = {"variant"};
  method.train_shared = [](const RetrainInput& input) {
    train_dynabert(*input.teacher, input.data, dynabert_options(input.params, input.seed),
                   input.dir, *input.log);
  };
  method.prune = [](const RetrainInput& input, double target) {
    const DynabertOptions options = dynabert_options(input.params, input.seed);
    const DynabertVariant variant = parse_dynabert_variant(input.params.get_string("variant", "w"));
    const EncoderConfig& config = input.teacher->config();
    const double seq_len = input.data.flops_seq_len;
    // A target no sub-network meets is an error before any training.
    Stopwatch clock;
    const DynabertChoice choice = choose_subnetwork(config, options, variant, target, seq_len);
    const double choice_seconds = clock.seconds();
    const DynabertTraining training =
        train_dynabert(*input.teacher, input.data, options, input.dir, *input.log);
    if (!training.finished) {
      fail("DynaBERT in {} stopped after stop_after={} steps; rerun to continue the training",
           input.dir, options.stop_after);
    }
    clock.reset();
    RetrainOutcome out;
    out.model = load_checkpoint((fs::path(input.dir) / "model").string(), input.teacher->device())
                    ->extract(choice.subnetwork);
    const double extract_seconds = choice_seconds + clock.seconds();
    out.label = variant == DynabertVariant::width ? "DynaBERT-w" : "DynaBERT-d";
    out.metrics = evaluate_task(*out.model, *input.data.dev, input.teacher->device()).metrics;
    out.flops_before = full_model_flops(config, seq_len) / 1e9;
    out.flops_after = subnetwork_flops(config, choice.subnetwork, seq_len) / 1e9;
    const nlohmann::json& record = training.record;
    const std::string key = subnetwork_key(choice.width, choice.depth);
    out.curve = curve_from_json(record.at("curves").at(key), input.dir + "/dynabert.json");
    const nlohmann::json& times = record.at("times");
    out.importance_seconds = times.at("importance").get<double>();
    out.train_seconds = times.at("train").get<double>();
    out.eval_seconds = times.at("eval").get<double>();
    out.io_seconds = times.at("io").get<double>();
    out.pruning_seconds = times.at("pruning").get<double>() + extract_seconds;
    out.stopped_early = record.at("stopped_early").get<bool>();
    double stage1_metric = NAN;
    for (const CurvePoint& point : out.curve) {
      if (point.stage == 1) stage1_metric = point.metric;
    }
    // Kept units in the teacher's own unit order (rewiring put the kept ones first).
    const auto head_order = orders_from_json(record.at("importance").at("head_order"));
    const auto neuron_order = orders_from_json(record.at("importance").at("neuron_order"));
    torch::Tensor head_masks = torch::zeros({config.num_layers, config.num_heads});
    torch::Tensor neuron_masks = torch::zeros({config.num_layers, config.intermediate_size});
    for (const int64_t layer : choice.subnetwork.layers) {
      const auto l = static_cast<size_t>(layer);
      for (int64_t i = 0; i < choice.subnetwork.heads[l]; ++i) {
        head_masks[layer][head_order[l][static_cast<size_t>(i)]] = 1;
      }
      for (int64_t i = 0; i < choice.subnetwork.neurons[l]; ++i) {
        neuron_masks[layer][neuron_order[l][static_cast<size_t>(i)]] = 1;
      }
    }
    out.arrays["head_masks"] = head_masks;
    out.arrays["neuron_masks"] = neuron_masks;
    out.details = {{"width", choice.width.text()},
                   {"depth", choice.depth.text()},
                   {"subnetwork", key},
                   {"flops_reduction", choice.flops_reduction},
                   {"layers", choice.subnetwork.layers},
                   {"heads_per_layer", choice.subnetwork.heads.front()},
                   {"neurons_per_layer", choice.subnetwork.neurons.front()},
                   {"stage1_metric", stage1_metric},
                   {"stage1_steps", record.at("stage1_steps")},
                   {"steps", record.at("steps")},
                   {"extract_seconds", extract_seconds}};
    return out;
  };
  return method;
}

}  // namespace kprune
