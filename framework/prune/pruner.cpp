#include "framework/prune/pruner.h"

#include <fmt/format.h>

#include <string>

#include "framework/util/error.h"
#include "framework/util/memory.h"
#include "framework/util/timer.h"

namespace kprune {
namespace {

bool batch_has_targets(const Batch& batch, HeadKind head_kind) {
  if (head_kind == HeadKind::question_answering) {
    return batch.start_positions.defined() && batch.end_positions.defined();
  }
  return batch.labels.defined();
}

}  // namespace

nlohmann::json PruneReport::to_json() const {
  nlohmann::json sublayer_json = nlohmann::json::array();
  for (const SublayerReport& s : sublayers) {
    sublayer_json.push_back({{"kept", s.kept},
                             {"total", s.total},
                             {"measure_seconds", s.measure_seconds},
                             {"search_seconds", s.search_seconds},
                             {"tune_seconds", s.tune_seconds},
                             {"tuning", s.tuning}});
  }
  return {{"pruner", pruner},
          {"label", label},
          {"head_masks", head_masks},
          {"neuron_masks", neuron_masks},
          {"flops", {{"before", flops_before}, {"after", flops_after}, {"budget", flops_budget}}},
          {"sublayers", sublayer_json},
          {"wall_seconds", wall_seconds},
          {"peak_rss_mb", peak_rss_mb},
          {"fallbacks", fallbacks},
          {"details", details}};
}

const PrunerInfo& find_pruner(const std::string& name) {
  std::string known;
  for (const PrunerInfo& info : pruner_registry()) {
    if (info.name == name) return info;
    known += (known.empty() ? "" : ", ") + info.name;
  }
  fail("unknown pruner '{}' (known: {})", name, known.empty() ? "none" : known);
}

PruneReport run_pruner(const std::string& name, EncoderModel& model, PruneInput input) {
  const PrunerInfo& info = find_pruner(name);
  if (!(input.flops_reduction >= 0 && input.flops_reduction < 1)) {
    fail("pruner {}: the FLOPs reduction must lie in [0, 1) (fraction of FLOPs removed), got {}",
         name, input.flops_reduction);
  }
  if (!(input.flops_seq_len > 0)) {
    fail("pruner {}: the FLOPs sequence length must be positive, got {}", name, input.flops_seq_len);
  }
  if (input.sample_batches == nullptr || input.sample_batches->empty()) {
    fail("pruner {}: the sample set is empty (it needs at least one batch)", name);
  }
  if (model.config().head_kind != input.head_kind) {
    fail("pruner {}: the model has a {} head but the task needs {}", name,
         to_string(model.config().head_kind), to_string(input.head_kind));
  }
  if (info.needs_labels) {
    for (size_t b = 0; b < input.sample_batches->size(); ++b) {
      if (!batch_has_targets((*input.sample_batches)[b], input.head_kind)) {
        fail("pruner {} needs labels{}: sample batch {} has none", name,
             input.head_kind == HeadKind::question_answering ? " (start/end positions)" : "", b);
      }
    }
  }
  std::vector<std::string> accepted;
  for (const PrunerParam& p : info.params) accepted.push_back(p.name);
  input.params.check_keys(accepted, "pruner " + name);
  for (const PrunerParam& p : info.params) {
    if (!input.params.has(p.name)) input.params.set(p.name, p.default_value);
  }

  Stopwatch clock;
  PruneReport report = info.create()->prune(model, input);
  report.pruner = name;
  if (report.label.empty()) report.label = name;
  report.wall_seconds = clock.seconds();
  report.peak_rss_mb = peak_rss_mb();
  return report;
}

}  // namespace kprune
