#include "framework/retrain/ebert.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "framework/model/flops.h"
#include "framework/model/losses.h"
#include "framework/retrain/retrain_method.h"
#include "framework/tasks/evaluate.h"
#include "framework/train/trainer.h"
#include "framework/util/error.h"
#include "framework/util/timer.h"

namespace kprune {
namespace {

namespace fs = std::filesystem;

// Sums of the eval gates over examples, per layer and unit.
struct GateTotals {
  torch::Tensor heads, neurons;  // [L, H], [L, F] float64
  int64_t examples = 0;

  void add(const EbertModel::Output& output) {
    const torch::Tensor h = output.head_gates.sum(0).to(torch::kCPU, torch::kFloat64);
    const torch::Tensor n = output.neuron_gates.sum(0).to(torch::kCPU, torch::kFloat64);
    heads = heads.defined() ? heads + h : h;
    neurons = neurons.defined() ? neurons + n : n;
    examples += output.head_gates.size(0);
  }
};

// Mean per-example FLOPs (ℓ = data's) of the gates seen, with and without the predictors.
void gate_flops(const GateTotals& totals, const EncoderConfig& config, double seq_len,
                int64_t predictor_hidden, EbertEvaluation& out) {
  const double examples = static_cast<double>(totals.examples);
  out.head_keep = totals.heads / examples;
  out.neuron_keep = totals.neurons / examples;
  // Linear in the counts: the mean of per-example FLOPs is the FLOPs of the mean counts.
  out.backbone_flops = out.head_keep.sum().item<double>() * head_flops(config, seq_len) +
                       out.neuron_keep.sum().item<double>() * neuron_flops(config, seq_len);
  const EbertFlops terms = ebert_flops(config, seq_len, predictor_hidden, false);
  out.flops = out.backbone_flops + static_cast<double>(config.num_layers) * terms.predictor;
  out.full_flops = full_model_flops(config, seq_len);
}

}  // namespace

EbertOptions ebert_options(const Params& p, uint64_t seed) {
  EbertOptions o;
  o.epochs = p.get_double("epochs", o.epochs);
  o.learning_rate = p.get_double("lr", o.learning_rate);
  o.predictor_learning_rate = p.get_double("predictor_lr", o.predictor_learning_rate);
  o.loss_lambda = p.get_double("loss_lambda", o.loss_lambda);
  o.batch_size = p.get_int("batch_size", o.batch_size);
  o.tau = p.get_double("tau", o.tau);
  o.predictor_hidden = p.get_int("predictor_hidden", o.predictor_hidden);
  o.bn_eps = p.get_double("bn_eps", o.bn_eps);
  o.layer0_masked_mean =
      p.get_choice("layer0_pool", "masked_mean", {"masked_mean", "mean_all"}) == "masked_mean";
  o.reference_flops_terms = p.get_choice("flops_terms", "clean", {"clean", "ref"}) == "ref";
  o.calibrate = p.get_bool("calibrate", o.calibrate);
  read_training_run_options(p, seed, "ebert", o);
  if (!(o.epochs > 0) || !(o.tau > 0) || o.batch_size < 2 || o.predictor_hidden < 1) {
    fail(
        "ebert: epochs and tau must be positive, batch_size at least 2 (BatchNorm) and "
        "predictor_hidden positive (got {}, {}, {} and {})",
        o.epochs, o.tau, o.batch_size, o.predictor_hidden);
  }
  return o;
}

GatePredictor::GatePredictor(int64_t input, int64_t hidden, int64_t units, double bn_eps) {
  first_ = register_module("first", torch::nn::Linear(input, hidden));
  norm_ = register_module(
      "norm", torch::nn::BatchNorm1d(torch::nn::BatchNorm1dOptions(hidden).eps(bn_eps)));
  second_ = register_module("second", torch::nn::Linear(hidden, units));
}

torch::Tensor GatePredictor::forward(const torch::Tensor& x) {
  return second_->forward(torch::relu(norm_->forward(first_->forward(x))));
}

torch::Tensor logistic_noise(torch::IntArrayRef shape, const torch::TensorOptions& options) {
  const torch::Tensor u = torch::rand(shape, options);
  return torch::log(u + 1e-8) - torch::log(1 - u + 1e-8);
}

torch::Tensor gate(const torch::Tensor& logits, bool training, double tau,
                   const torch::Tensor& noise) {
  const torch::Tensor z = at_least_fp32(logits);
  if (!training) return (z >= 0).to(z.scalar_type());
  const torch::Tensor g =
      noise.defined() ? noise.to(z.options()) : logistic_noise(z.sizes(), z.options());
  const torch::Tensor soft = torch::sigmoid((z + g) / tau);
  const torch::Tensor hard = (soft >= 0.5).to(soft.scalar_type());
  return hard - soft.detach() + soft;  // forward: hard; backward: the gradient of soft
}

EbertModel::EbertModel(std::shared_ptr<EncoderModel> encoder, const EbertOptions& options,
                       uint64_t seed)
    : encoder_(register_module("encoder", std::move(encoder))),
      tau_(options.tau),
      layer0_masked_mean_(options.layer0_masked_mean) {
  const EncoderConfig& config = encoder_->config();
  if (config.is_pruned())
    fail("EBERT starts from an unpruned model (this one has per-layer counts)");
  for (int64_t layer = 0; layer < config.num_layers; ++layer) {
    head_predictors_.push_back(register_module(
        fmt::format("heads_{}", layer),
        std::make_shared<GatePredictor>(config.hidden_size, options.predictor_hidden,
                                        config.num_heads, options.bn_eps)));
    neuron_predictors_.push_back(register_module(
        fmt::format("neurons_{}", layer),
        std::make_shared<GatePredictor>(config.hidden_size, options.predictor_hidden,
                                        config.intermediate_size, options.bn_eps)));
  }
  // BERT's initialisation: Linear weights ~ N(0, initializer_range), biases 0 (BatchNorm keeps
  // weight 1, bias 0), drawn from an own generator so the encoder's RNG use is unaffected.
  auto generator = at::detail::createCPUGenerator(seed);
  torch::NoGradGuard no_grad;
  for (auto& item : predictor_parameters()) {
    const std::string& name = item.key();
    if (name.find(".norm.") != std::string::npos) continue;
    torch::Tensor& tensor = item.value();
    if (name.find("bias") != std::string::npos) {
      tensor.zero_();
    } else {
      torch::Tensor draw = torch::empty(tensor.sizes(), torch::kFloat64);
      draw.normal_(0.0, config.initializer_range, generator);
      tensor.copy_(draw);
    }
  }
  to(encoder_->device(), encoder_->dtype());
}

torch::OrderedDict<std::string, torch::Tensor> EbertModel::predictor_parameters() const {
  torch::OrderedDict<std::string, torch::Tensor> out;
  for (const auto& item : named_parameters()) {
    if (item.key().rfind("encoder.", 0) != 0) out.insert(item.key(), item.value());
  }
  return out;
}

EbertModel::Output EbertModel::forward(const Batch& batch) {
  EncoderModel& model = *encoder_;
  const torch::Tensor bias = model.attention_bias(batch);
  torch::Tensor x = model.embed(batch);  // [B, T, d]
  const int64_t layers = model.config().num_layers;
  std::vector<torch::Tensor> heads, neurons;
  for (int64_t layer = 0; layer < layers; ++layer) {
    torch::Tensor summary;  // [B, d]: what the head predictor sees
    if (layer > 0) {
      summary = x.select(1, 0);
    } else if (layer0_masked_mean_) {
      const torch::Tensor real = batch.attention_mask.to(x.scalar_type()).unsqueeze(-1);
      summary = (x * real).sum(1) / real.sum(1).clamp_min(1);
    } else {
      summary = x.mean(1);
    }
    const auto l = static_cast<size_t>(layer);
    heads.push_back(
        gate(head_predictors_[l]->forward(summary) + logit_offset_, is_training(), tau_));
    SublayerForwardOptions attention;
    attention.unit_mask = heads.back();
    x = model.sublayer(2 * layer).forward_with(x, bias, attention);
    neurons.push_back(
        gate(neuron_predictors_[l]->forward(x.select(1, 0)) + logit_offset_, is_training(), tau_));
    SublayerForwardOptions ffn;
    ffn.pre_activation_mask = neurons.back();
    x = model.sublayer(2 * layer + 1).forward_with(x, bias, ffn);
  }
  return {model.head(x), torch::stack(heads, 1), torch::stack(neurons, 1)};
}

EbertFlops ebert_flops(const EncoderConfig& config, double seq_len, int64_t predictor_hidden,
                       bool reference) {
  const double d = static_cast<double>(config.hidden_size);
  const double dh = reference ? 64.0 : static_cast<double>(config.head_dim);
  const double h = static_cast<double>(predictor_hidden);
  const double heads = reference ? 12.0 : static_cast<double>(config.num_heads);
  const double ffn = static_cast<double>(config.intermediate_size);
  EbertFlops out;
  out.head = 8.0 * seq_len * d * dh + 4.0 * seq_len * seq_len * dh;
  out.neuron = 4.0 * seq_len * d;
  out.predictor = 2.0 * (d * h + h * heads) + 2.0 * (d * h + h * ffn);
  out.total = static_cast<double>(config.num_layers) *
              (static_cast<double>(config.num_heads) * out.head + ffn * out.neuron);
  return out;
}

EbertPenalty ebert_penalty(const EbertModel::Output& output, const EbertFlops& terms,
                           double sparsity) {
  const int64_t layers = output.head_gates.size(1);
  const double heads = static_cast<double>(output.head_gates.size(2));
  const double neurons = static_cast<double>(output.neuron_gates.size(2));
  const torch::Tensor kept_heads = output.head_gates.sum(-1).mean(0);      // [L]: h̄_l
  const torch::Tensor kept_neurons = output.neuron_gates.sum(-1).mean(0);  // [L]: k̄_l
  const torch::Tensor dynamic = static_cast<double>(layers) * terms.predictor +
                                (kept_heads * terms.head + kept_neurons * terms.neuron).sum();
  EbertPenalty out;
  out.flops = torch::pow((1.0 - dynamic / terms.total) - sparsity, 2);
  out.heads = torch::pow(sparsity - (1.0 - kept_heads / heads), 2).mean();
  out.neurons = torch::pow(sparsity - (1.0 - kept_neurons / neurons), 2).mean();
  return out;
}

EbertEvaluation evaluate_ebert(EbertModel& model, const RetrainData& data,
                               int64_t predictor_hidden) {
  EvalModeGuard eval_mode(model);
  GateTotals totals;
  const EvalResult result = evaluate_forward(
      [&](const Batch& batch) {
        EbertModel::Output output = model.forward(batch);
        totals.add(output);
        return output.model;
      },
      *data.task, data.dev->features, 128, model.encoder().device());
  EbertEvaluation out;
  out.metrics = result.metrics;
  gate_flops(totals, model.encoder().config(), data.flops_seq_len, predictor_hidden, out);
  return out;
}

namespace {

// The FLOPs reduction of the eval gates on `batches`, with the model's logit offset.
double sample_reduction(EbertModel& model, const std::vector<Batch>& batches,
                        const RetrainData& data, int64_t predictor_hidden) {
  EvalModeGuard eval_mode(model);
  torch::NoGradGuard no_grad;
  GateTotals totals;
  for (const Batch& batch : batches) totals.add(model.forward(batch.to(model.encoder().device())));
  EbertEvaluation out;
  gate_flops(totals, model.encoder().config(), data.flops_seq_len, predictor_hidden, out);
  return out.flops_reduction();
}

// ADAPT calibration (section 2.5): the logit offset, by bisection, whose average reduction on a
// training sample is the target (at least the target: the bracket's compressed end).
double calibrate_offset(EbertModel& model, const RetrainData& data, const EbertOptions& options,
                        double target) {
  const std::vector<int64_t> order = seeded_permutation(data.train_examples, options.seed + 1);
  const size_t size = std::min<size_t>(order.size(), 1024);
  std::vector<Batch> batches;
  for (size_t start = 0; start < size; start += 128) {
    const size_t end = std::min(size, start + 128);
    batches.push_back(
        data.train_batch(std::vector<int64_t>(order.begin() + static_cast<std::ptrdiff_t>(start),
                                              order.begin() + static_cast<std::ptrdiff_t>(end))));
  }
  // Each probe is a forward pass over the sample, so the search stops as soon as the compressed
  // end is within a quarter point of the target: a finer offset buys nothing measurable.
  constexpr double tolerance = 0.0025;
  double compressed = -30, dense = 30;  // reduction falls as the offset grows
  double compressed_reduction = 1;
  for (int iteration = 0; iteration < 25 && compressed_reduction - target > tolerance;
       ++iteration) {
    const double middle = (compressed + dense) / 2;
    model.set_logit_offset(middle);
    const double reduction = sample_reduction(model, batches, data, options.predictor_hidden);
    if (reduction >= target) {
      compressed = middle;
      compressed_reduction = reduction;
    } else {
      dense = middle;
    }
  }
  model.set_logit_offset(compressed);
  return compressed;
}

}  // namespace

EbertTraining train_ebert(const EncoderModel& teacher, const RetrainData& data,
                          const EbertOptions& options, double target, const std::string& dir,
                          std::ostream& log) {
  const EncoderConfig& config = teacher.config();
  const EbertFlops terms = ebert_flops(config, data.flops_seq_len, options.predictor_hidden, false);
  const double most = 1.0 - static_cast<double>(config.num_layers) * terms.predictor /
                                full_model_flops(config, data.flops_seq_len);
  if (!(target > 0) || !(target < most)) {
    fail(
        "EBERT: a FLOPs reduction of {:.2f} % is outside what its gates can reach: (0, {:.2f} %) "
        "(with every unit gated off, the predictors' FLOPs remain)",
        100 * target, 100 * most);
  }
  if (data.train_examples < options.batch_size) {
    fail("EBERT: {} training examples, fewer than one batch of {}", data.train_examples,
         options.batch_size);
  }
  fs::create_directories(dir);
  auto model = std::make_shared<EbertModel>(teacher.clone(), options, options.seed);
  const HeadKind kind = data.task->head_kind;
  const torch::Device device = teacher.device();

  ParameterGroup backbone, predictors;
  backbone.parameters = model->encoder().named_parameters();
  backbone.adamw = {options.learning_rate, 0.0, 1e-8};
  predictors.parameters = model->predictor_parameters();
  predictors.adamw = {options.predictor_learning_rate, 0.0, 1e-8};
  predictors.schedule = LearningRateSchedule::constant;

  const int64_t steps_per_epoch = data.train_examples / options.batch_size;
  TrainerOptions loop;
  loop.name = fmt::format("ebert {:.0f}%", 100 * target);
  loop.examples = data.train_examples;
  loop.batch_size = options.batch_size;
  loop.max_steps = std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil(options.epochs * static_cast<double>(steps_per_epoch))));
  loop.max_grad_norm = 1.0;
  loop.seed = options.seed;
  loop.checkpoint_every = std::max<int64_t>(1, steps_per_epoch / options.evals_per_epoch);
  loop.save_every = options.save_every;
  loop.state_path = (fs::path(dir) / "ebert-state.pt").string();
  loop.fingerprint = fmt::format("ebert target {} examples {} batch {} steps {}", target,
                                 data.train_examples, options.batch_size, loop.max_steps);
  loop.device = device;
  loop.stop_after = options.stop_after;

  EbertTraining out;
  auto record_point = [&](int64_t step, const TrainingTimes& times, double eval_before) {
    Stopwatch clock;
    const EbertEvaluation evaluation = evaluate_ebert(*model, data, options.predictor_hidden);
    CurvePoint point;
    point.step = step;
    point.train_seconds = times.train;
    point.eval_seconds = eval_before + clock.seconds();
    point.io_seconds = times.io;
    point.metric = evaluation.metrics.at(data.task->main_metric);
    point.flops_reduction = evaluation.flops_reduction();
    out.curve.push_back(point);
    log << fmt::format("step {} (pruning time {:.1f} s): dev {} {:.2f}, FLOPs reduction {:.1f} %\n",
                       step, times.train, data.task->main_metric, point.metric,
                       100 * point.flops_reduction);
    log.flush();
  };
  if (!fs::exists(loop.state_path)) record_point(0, TrainingTimes{}, 0);

  TrainingCallbacks callbacks;
  callbacks.step = [&](const std::vector<int64_t>& members, int64_t) {
    const Batch batch = data.train_batch(members).to(device);
    torch::Tensor loss;
    {
      PrecisionScope precision(options.precision, device);
      const EbertModel::Output output = model->forward(batch);
      const EbertFlops batch_terms =
          ebert_flops(config, static_cast<double>(batch.seq_len()), options.predictor_hidden,
                      options.reference_flops_terms);
      loss = supervised_loss(output.model, batch, kind) +
             ebert_penalty(output, batch_terms, target).total(options.loss_lambda);
    }
    loss.backward();
    return StepOutcome{loss.item<double>(), batch.attention_mask.sum().item<int64_t>()};
  };
  callbacks.checkpoint = [&](int64_t step, const TrainingTimes& times) {
    record_point(step, times, times.checkpoint);
  };
  callbacks.save_extra = [&] { return curve_to_json(out.curve).dump(); };
  callbacks.load_extra = [&](const std::string& text) {
    out.curve = curve_from_json(nlohmann::json::parse(text), loop.state_path);
  };
  if (options.max_wall_s > 0) {
    callbacks.stop_early = [&](const TrainingTimes& times) {
      return times.train >= options.max_wall_s;
    };
  }
  const TrainerResult result =
      run_training({{"ebert", model.get()}}, {backbone, predictors}, loop, callbacks);
  out.train_seconds = result.times.train;
  out.eval_seconds = result.times.checkpoint;
  out.io_seconds = result.times.io;
  out.steps = result.steps;
  out.stopped_early = result.stopped_early;
  out.finished = result.finished;
  if (!result.finished && !result.stopped_early) {
    out.model = model;
    return out;  // stop_after: the saved state continues the run
  }
  if (options.calibrate) {
    Stopwatch clock;
    const double offset = calibrate_offset(*model, data, options, target);
    out.calibration_seconds = clock.seconds();
    log << fmt::format("calibration: logit offset {:.4f} ({:.1f} s)\n", offset,
                       out.calibration_seconds);
  }
  out.pruning_seconds = out.train_seconds + out.calibration_seconds;
  Stopwatch eval_clock;
  out.final = evaluate_ebert(*model, data, options.predictor_hidden);
  if (options.calibrate) {
    // The calibrated model is the result: the curve ends with it, at its pruning time.
    CurvePoint point = out.curve.back();
    point.train_seconds = out.pruning_seconds;
    point.eval_seconds += eval_clock.seconds();
    point.metric = out.final.metrics.at(data.task->main_metric);
    point.flops_reduction = out.final.flops_reduction();
    out.curve.push_back(point);
  }
  out.model = model;
  fs::remove(loop.state_path);
  std::error_code ignored;
  fs::remove(dir, ignored);  // only when empty: the folder held the state alone
  return out;
}

RetrainMethod ebert_method() {
  RetrainMethod method;
  method.name = "ebert";
  method.description =
      "EBERT (Liu et al., 2021): per-example head and neuron gates from small predictors, "
      "trained with the backbone for each FLOPs target (retraining-baselines.md 2)";
  method.params = {
      {"epochs", "3", "training epochs"},
      {"lr", "3e-05", "backbone AdamW learning rate, linear decay to 0"},
      {"predictor_lr", "0.02", "predictor AdamW learning rate, constant"},
      {"loss_lambda", "4", "weight of the FLOPs/sparsity penalty"},
      {"batch_size", "32", "training batch (at least 2: BatchNorm)"},
      {"tau", "1", "gate temperature"},
      {"predictor_hidden", "64", "hidden width of each predictor"},
      {"bn_eps", "1e-12", "BatchNorm epsilon of the predictors"},
      {"layer0_pool", "masked_mean", "layer-0 head predictor input: masked_mean or mean_all (E1)"},
      {"flops_terms", "clean", "penalty's predictor cost: clean (H heads) or ref (12 heads)"},
      {"calibrate", "false", "true: one logit offset meets the target on a training sample"},
  };
  for (const PrunerParam& param : common_training_params()) method.params.push_back(param);
  method.prune = [](const RetrainInput& input, double target) {
    const EbertOptions options = ebert_options(input.params, input.seed);
    const EbertTraining training =
        train_ebert(*input.teacher, input.data, options, target, input.dir, *input.log);
    if (!training.finished && !training.stopped_early) {
      fail("EBERT in {} stopped after stop_after={} steps; rerun to continue the training",
           input.dir, options.stop_after);
    }
    const EncoderConfig& config = input.teacher->config();
    const EbertEvaluation& final = training.final;
    RetrainOutcome out;
    out.label = "EBERT";
    out.metrics = final.metrics;
    out.flops_before = final.full_flops / 1e9;
    out.flops_after = final.flops / 1e9;
    out.curve = training.curve;
    out.pruning_seconds = training.pruning_seconds;
    out.train_seconds = training.train_seconds;
    out.eval_seconds = training.eval_seconds;
    out.io_seconds = training.io_seconds;
    out.stopped_early = training.stopped_early;
    out.arrays["gate_head_keep"] = final.head_keep.to(torch::kFloat32);
    out.arrays["gate_neuron_keep"] = final.neuron_keep.to(torch::kFloat32);
    const double reduction = final.flops_reduction();
    out.details = {{"flops_reduction", reduction},
                   {"flops_reduction_backbone", 1.0 - final.backbone_flops / final.full_flops},
                   {"target_met", reduction >= target - 0.01},
                   {"calibration_seconds", training.calibration_seconds},
                   {"logit_offset", training.model->logit_offset()},
                   {"steps", training.steps}};
    const torch::Tensor heads = final.head_keep.sum(1), neurons = final.neuron_keep.sum(1);
    std::vector<double> mean_heads, mean_neurons;
    for (int64_t l = 0; l < config.num_layers; ++l) {
      mean_heads.push_back(heads[l].item<double>());
      mean_neurons.push_back(neurons[l].item<double>());
    }
    out.details["mean_heads_per_layer"] = mean_heads;
    out.details["mean_neurons_per_layer"] = mean_neurons;
    return out;
  };
  return method;
}

}  // namespace kprune
