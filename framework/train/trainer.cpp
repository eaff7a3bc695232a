#include "framework/train/trainer.h"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>

#include "framework/tasks/index_sampler.h"
#include "framework/util/error.h"
#include "framework/util/progress.h"
#include "framework/util/timer.h"

namespace kprune {
namespace {

using NamedModules = std::vector<std::pair<std::string, torch::nn::Module*>>;

// The loop's own state beside the weights and the optimizer.
struct LoopState {
  int64_t step = 0;
  double loss_average = 0, loss_weight = 0;  // exponential moving average, bias-corrected
  TrainingTimes times;
};

// One AdamW over every group: each group becomes a decayed and an undecayed torch group (in that
// order, as make_adamw builds them), with the group's schedule for both.
struct GroupedOptimizer {
  std::unique_ptr<torch::optim::AdamW> adamw;
  std::vector<const ParameterGroup*> schedule_of;  // per torch group
};

GroupedOptimizer make_optimizer(const std::vector<ParameterGroup>& groups) {
  std::vector<torch::optim::OptimizerParamGroup> torch_groups;
  GroupedOptimizer out;
  for (const ParameterGroup& group : groups) {
    auto built = make_adamw(group.parameters, group.adamw);
    for (auto& param_group : built->param_groups()) {
      torch_groups.emplace_back(
          param_group.params(),
          std::make_unique<torch::optim::AdamWOptions>(
              static_cast<torch::optim::AdamWOptions&>(param_group.options())));
      out.schedule_of.push_back(&group);
    }
  }
  if (torch_groups.empty()) fail("training: no parameter group");
  out.adamw = std::make_unique<torch::optim::AdamW>(std::move(torch_groups));
  return out;
}

void save_state(const std::string& path, const NamedModules& modules,
                const torch::optim::AdamW& optimizer, const LoopState& state,
                const std::string& fingerprint, const std::string& extra) {
  torch::serialize::OutputArchive archive;
  for (const auto& [name, module] : modules) {
    torch::serialize::OutputArchive module_archive;
    module->save(module_archive);
    archive.write(name, module_archive);
  }
  torch::serialize::OutputArchive optimizer_archive;
  optimizer.save(optimizer_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("step", c10::IValue(state.step));
  archive.write("loss_average", c10::IValue(state.loss_average));
  archive.write("loss_weight", c10::IValue(state.loss_weight));
  archive.write("time_train", c10::IValue(state.times.train));
  archive.write("time_checkpoint", c10::IValue(state.times.checkpoint));
  archive.write("time_io", c10::IValue(state.times.io));
  archive.write("extra", c10::IValue(extra));
  archive.write("fingerprint", c10::IValue(fingerprint));
  // A kill during the write leaves the previous state intact.
  const std::string temporary = path + ".tmp";
  archive.save_to(temporary);
  std::filesystem::rename(temporary, path);
}

double read_double(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  return archive.try_read(key, value) ? value.toDouble() : 0.0;  // absent in older states
}

LoopState load_state(const std::string& path, const NamedModules& modules,
                     torch::optim::AdamW& optimizer, const TrainerOptions& options,
                     std::string& extra) {
  torch::serialize::InputArchive archive;
  archive.load_from(path, options.device);
  c10::IValue value;
  archive.read("fingerprint", value);
  if (value.toStringRef() != options.fingerprint) {
    fail(
        "{}: the saved state {} belongs to another recipe or data (saved: {}; now: {}); use "
        "another output directory or delete the state to start over",
        options.name, path, value.toStringRef(), options.fingerprint);
  }
  for (const auto& [name, module] : modules) {
    torch::serialize::InputArchive module_archive;
    archive.read(name, module_archive);
    module->load(module_archive);
  }
  torch::serialize::InputArchive optimizer_archive;
  archive.read("optimizer", optimizer_archive);
  optimizer.load(optimizer_archive);
  LoopState state;
  archive.read("step", value);
  state.step = value.toInt();
  state.loss_average = read_double(archive, "loss_average");
  state.loss_weight = read_double(archive, "loss_weight");
  state.times = {read_double(archive, "time_train"), read_double(archive, "time_checkpoint"),
                 read_double(archive, "time_io")};
  extra = archive.try_read("extra", value) ? value.toStringRef() : std::string();
  return state;
}

}  // namespace

double linear_schedule(int64_t step, int64_t warmup_steps, int64_t total_steps) {
  if (step < warmup_steps) return static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  const int64_t decay_steps = total_steps - warmup_steps;
  if (decay_steps <= 0) return 1.0;
  return std::max(0.0, static_cast<double>(total_steps - step) / static_cast<double>(decay_steps));
}

std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  IndexSampler sampler(seed);
  for (int64_t i = n - 1; i > 0; --i) {
    const uint64_t j = sampler.below(static_cast<uint64_t>(i) + 1);
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
}

uint64_t step_seed(uint64_t seed, int64_t step, uint64_t stream) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(step) * 0xBF58476D1CE4E5B9ULL +
               stream * 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return x & 0x7FFFFFFFFFFFFFFFULL;  // torch::manual_seed takes any uint64, generators too
}

TrainerResult run_training(const NamedModules& modules, const std::vector<ParameterGroup>& groups,
                           const TrainerOptions& options, const TrainingCallbacks& callbacks) {
  if (!callbacks.step) fail("{}: no training step given", options.name);
  if (options.batch_size <= 0 || options.max_steps <= 0) {
    fail("{}: batch size and steps must be positive (got {} and {})", options.name,
         options.batch_size, options.max_steps);
  }
  if (options.examples < options.batch_size) {
    fail("{}: {} training example(s), fewer than one batch of {}", options.name, options.examples,
         options.batch_size);
  }
  if (options.seeding == StepSeeding::once) torch::manual_seed(options.seed);
  for (const auto& entry : modules) entry.second->to(options.device);
  GroupedOptimizer optimizer = make_optimizer(groups);
  // Clipping sums the gradient norms in the groups' own parameter order (the modules' order),
  // not the optimizer's decayed/undecayed split: the sum's rounding decides the clip factor,
  // and the teachers of the zoo were trained with this order.
  std::vector<torch::Tensor> trained;
  for (const ParameterGroup& group : groups) {
    for (const auto& item : group.parameters) {
      if (item.value().requires_grad()) trained.push_back(item.value());
    }
  }

  LoopState state;
  TrainerResult result;
  const bool resumable = !options.state_path.empty();
  if (resumable && std::filesystem::exists(options.state_path)) {
    std::string extra;
    state = load_state(options.state_path, modules, *optimizer.adamw, options, extra);
    if (callbacks.load_extra) callbacks.load_extra(extra);
    fmt::print(stderr, "[{}] resuming from step {} ({})\n", options.name, state.step,
               options.state_path);
  }
  result.resumed_from = state.step;
  const int64_t steps_per_epoch = options.examples / options.batch_size;
  const int64_t last_step =
      options.stop_after > 0 ? std::min(options.stop_after, options.max_steps) : options.max_steps;
  auto save = [&] {
    Stopwatch io_clock;
    save_state(options.state_path, modules, *optimizer.adamw, state, options.fingerprint,
               callbacks.save_extra ? callbacks.save_extra() : std::string());
    state.times.io += io_clock.seconds();
  };

  Progress progress(options.name, options.max_steps);
  std::vector<int64_t> order;
  int64_t order_epoch = -1;
  int64_t trained_tokens = 0;
  double run_train_seconds = 0;
  for (const auto& entry : modules) entry.second->train();
  while (state.step < last_step) {
    const int64_t step = state.step;
    Stopwatch step_clock;
    const int64_t epoch = step / steps_per_epoch;
    if (epoch != order_epoch) {
      order = seeded_permutation(options.examples,
                                 options.seed * 1000003 + static_cast<uint64_t>(epoch));
      order_epoch = epoch;
    }
    const auto first = order.begin() + (step % steps_per_epoch) * options.batch_size;
    const std::vector<int64_t> members(first, first + options.batch_size);

    if (options.seeding == StepSeeding::per_step) {
      torch::manual_seed(step_seed(options.seed, step, 2));
    }
    for (size_t g = 0; g < optimizer.schedule_of.size(); ++g) {
      const ParameterGroup& group = *optimizer.schedule_of[g];
      double factor = 1.0;
      if (group.schedule == LearningRateSchedule::linear) {
        const auto warmup = static_cast<int64_t>(
            std::llround(group.warmup_ratio * static_cast<double>(options.max_steps)));
        factor = linear_schedule(step, warmup, options.max_steps);
      }
      static_cast<torch::optim::AdamWOptions&>(optimizer.adamw->param_groups()[g].options())
          .lr(group.adamw.learning_rate * factor);
    }
    optimizer.adamw->zero_grad();
    const StepOutcome outcome = callbacks.step(members, step);
    if (options.max_grad_norm > 0) {
      torch::nn::utils::clip_grad_norm_(trained, options.max_grad_norm);
    }
    optimizer.adamw->step();
    if (!std::isfinite(outcome.loss)) {
      fail("{}: the loss became {} at step {} (learning rate too high?)", options.name,
           outcome.loss, step);
    }
    state.loss_average = 0.98 * state.loss_average + 0.02 * outcome.loss;
    state.loss_weight = 0.98 * state.loss_weight + 0.02;
    state.step += 1;
    const double step_seconds = step_clock.seconds();
    state.times.train += step_seconds;
    run_train_seconds += step_seconds;
    trained_tokens += outcome.tokens;
    result.final_loss = state.loss_average / state.loss_weight;
    result.tokens_per_second =
        static_cast<double>(trained_tokens) / std::max(run_train_seconds, 1e-9);
    progress.update(state.step, fmt::format("loss {:.4f}  {:.0f} tok/s", result.final_loss,
                                            result.tokens_per_second));

    result.stopped_early =
        state.step < options.max_steps && callbacks.stop_early && callbacks.stop_early(state.times);
    const bool last = state.step == options.max_steps || result.stopped_early;
    if (callbacks.checkpoint &&
        (last || (options.checkpoint_every > 0 && state.step % options.checkpoint_every == 0))) {
      Stopwatch checkpoint_clock;
      callbacks.checkpoint(state.step, state.times);
      state.times.checkpoint += checkpoint_clock.seconds();
    }
    if (resumable && (state.step == last_step || result.stopped_early ||
                      (options.save_every > 0 && state.step % options.save_every == 0))) {
      save();
    }
    if (result.stopped_early) break;
  }
  if (state.loss_weight > 0) result.final_loss = state.loss_average / state.loss_weight;
  result.steps = state.step;
  result.finished = state.step == options.max_steps;
  result.times = state.times;
  for (const auto& entry : modules) entry.second->eval();
  return result;
}

}  // namespace kprune
