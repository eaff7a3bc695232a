#include "framework/prune/kwon.h"

#include <cmath>
#include <limits>

#include "framework/model/flops.h"
#include "framework/model/losses.h"
#include "framework/prune/masks.h"
#include "framework/util/error.h"
#include "framework/util/timer.h"

namespace kprune {
namespace {

using torch::indexing::Slice;

// Rows of `t` [B, T, ...] at real (non-padded) tokens, in batch-major order: [tokens, ...].
torch::Tensor real_tokens(const torch::Tensor& t, const Batch& batch) {
  return t.index({batch.attention_mask.to(t.device()).to(torch::kBool)});
}

std::vector<int64_t> nonzero_indices(const torch::Tensor& row) {
  torch::Tensor idx = row.nonzero().flatten().to(torch::kCPU);
  return {idx.data_ptr<int64_t>(), idx.data_ptr<int64_t>() + idx.numel()};
}

std::vector<int64_t> count_per_row(const torch::Tensor& mask) {
  torch::Tensor counts = (mask != 0).sum(1).to(torch::kCPU);
  return {counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + counts.numel()};
}

// The damped solve of 5.4: δ minimising ‖G δ − (r − G·1)‖² + ‖δ‖², returns 1 + δ.
struct DampedSolve {
  torch::Tensor solution;  // [k] float64
  LsmrResult lsmr;
  bool success = false;
};

DampedSolve solve_damped(const torch::Tensor& gram, const torch::Tensor& rhs, KwonMode mode) {
  DampedSolve out;
  if (mode == KwonMode::ref) {
    // Official: B − A.sum(1) in float32, LSMR (CuPy) with damp 1 on the float32 system.
    torch::Tensor b = rhs - gram.sum(1);
    LsmrOptions options;
    options.damp = 1;
    out.lsmr = lsmr(gram, b, options);
    out.solution = out.lsmr.x.to(torch::kFloat64) + 1;
    out.success = out.lsmr.istop < 3;
    return out;
  }
  torch::Tensor g = gram.to(torch::kFloat64);
  torch::Tensor b = rhs.to(torch::kFloat64) - g.sum(1);
  torch::Tensor lhs = g.mm(g) + torch::eye(g.size(0), g.options());
  torch::Tensor delta = torch::linalg_solve(lhs, g.mv(b).unsqueeze(1)).squeeze(1);
  out.solution = delta + 1;
  out.success = torch::isfinite(out.solution).all().item<bool>();
  return out;
}

}  // namespace

KwonMode parse_kwon_mode(const std::string& text) {
  if (text == "ref") return KwonMode::ref;
  if (text == "clean") return KwonMode::clean;
  fail("unknown Kwon mode '{}' (accepted: ref, clean)", text);
}

std::vector<torch::Tensor> KwonMasks::unit_masks(torch::ScalarType dtype,
                                                 torch::Device device) const {
  std::vector<torch::Tensor> masks;
  for (int64_t l = 0; l < heads.size(0); ++l) {
    masks.push_back(heads[l].to(device, dtype));
    masks.push_back(neurons[l].to(device, dtype));
  }
  return masks;
}

std::vector<int64_t> KwonMasks::heads_per_layer() const { return count_per_row(heads); }
std::vector<int64_t> KwonMasks::neurons_per_layer() const { return count_per_row(neurons); }

torch::Tensor FisherGrads::head_importance() const { return heads.pow(2).sum(0); }
torch::Tensor FisherGrads::neuron_importance() const { return neurons.pow(2).sum(0); }

FisherGrads collect_mask_grads(const EncoderModel& model, const std::vector<Batch>& batches,
                               HeadKind head_kind) {
  const EncoderConfig& config = model.config();
  if (config.is_pruned()) fail("Kwon Fisher: the model must be unpruned");
  std::vector<torch::Tensor> head_grads, neuron_grads;
  for (const Batch& host_batch : batches) {
    const Batch batch = host_batch.to(model.device());
    std::vector<torch::Tensor> masks;
    for (int64_t s = 0; s < model.num_sublayers(); ++s) {
      masks.push_back(torch::ones({model.sublayer(s).num_units()},
                                  torch::dtype(model.dtype()).device(model.device()))
                          .requires_grad_(true));
    }
    ForwardOptions options;
    options.unit_masks = &masks;
    torch::Tensor loss = supervised_loss(model.forward(batch, options), batch, head_kind);
    std::vector<torch::Tensor> grads = torch::autograd::grad({loss}, masks);
    std::vector<torch::Tensor> heads, neurons;
    for (size_t s = 0; s < grads.size(); ++s) {
      (s % 2 == 0 ? heads : neurons).push_back(grads[s].to(torch::kCPU, torch::kFloat32));
    }
    head_grads.push_back(torch::stack(heads));
    neuron_grads.push_back(torch::stack(neurons));
  }
  return {torch::stack(head_grads), torch::stack(neuron_grads)};
}

KwonMacs kwon_macs(const EncoderConfig& config, double seq_len) {
  const double d = static_cast<double>(config.hidden_size);
  const double dh = static_cast<double>(config.head_dim);
  // efficiency/mac.py's term order (Q/K/V, scores and weighted sum, output projection).
  KwonMacs macs;
  macs.per_head = 3 * seq_len * d * dh + 2 * seq_len * seq_len * dh + seq_len * dh * d;
  macs.per_neuron = 2 * seq_len * d;
  for (int64_t l = 0; l < config.num_layers; ++l) {
    macs.original += static_cast<double>(config.num_heads) * macs.per_head +
                     static_cast<double>(config.intermediate_size) * macs.per_neuron;
  }
  return macs;
}

KwonMasks search_masks(const torch::Tensor& head_importance, const torch::Tensor& neuron_importance,
                       const KwonMacs& macs, double kept_fraction, KwonMode mode) {
  if (!(kept_fraction > 0 && kept_fraction < 1)) {
    fail("Kwon search: the kept MAC fraction must lie in (0, 1), got {}", kept_fraction);
  }
  const double max_mac = kept_fraction * macs.original;
  const torch::Tensor head_flat = head_importance.to(torch::kFloat32).reshape(-1);
  const torch::Tensor neuron_flat = neuron_importance.to(torch::kFloat32).reshape(-1);
  auto [head_sorted, head_order] = head_flat.sort(/*dim=*/0, /*descending=*/true);
  auto [neuron_sorted, neuron_order] = neuron_flat.sort(0, true);
  const int64_t total_heads = head_flat.numel();
  const int64_t total_neurons = neuron_flat.numel();

  int64_t best_heads = 0, best_neurons = 0;
  if (mode == KwonMode::ref) {
    // Official: float32 slice sums, n_h from 1, neuron count clipped at 0 (never checked).
    float best = 0;
    for (int64_t nh = 1; nh <= total_heads; ++nh) {
      const double heads_mac = macs.per_head * static_cast<double>(nh);
      const int64_t nf = std::min(
          std::max<int64_t>(static_cast<int64_t>((max_mac - heads_mac) / macs.per_neuron), 0),
          total_neurons);
      const float value =
          (head_sorted.slice(0, 0, nh).sum() + neuron_sorted.slice(0, 0, nf).sum()).item<float>();
      if (value > best) {
        best = value;
        best_heads = nh;
        best_neurons = nf;
      }
    }
  } else {
    const torch::Tensor head_cum = head_sorted.to(torch::kFloat64).cumsum(0);
    const torch::Tensor neuron_cum = neuron_sorted.to(torch::kFloat64).cumsum(0);
    double best = -1;
    for (int64_t nh = 0; nh <= total_heads; ++nh) {
      const double heads_mac = macs.per_head * static_cast<double>(nh);
      if (heads_mac > max_mac) break;
      const int64_t nf = std::min(
          static_cast<int64_t>(std::floor((max_mac - heads_mac) / macs.per_neuron)), total_neurons);
      const double value = (nh > 0 ? head_cum[nh - 1].item<double>() : 0.0) +
                           (nf > 0 ? neuron_cum[nf - 1].item<double>() : 0.0);
      if (value > best) {
        best = value;
        best_heads = nh;
        best_neurons = nf;
      }
    }
  }
  torch::Tensor heads = torch::zeros({total_heads}, torch::kFloat32);
  torch::Tensor neurons = torch::zeros({total_neurons}, torch::kFloat32);
  heads.index_fill_(0, head_order.slice(0, 0, best_heads), 1.0);
  neurons.index_fill_(0, neuron_order.slice(0, 0, best_neurons), 1.0);
  return {heads.reshape(head_importance.sizes()), neurons.reshape(neuron_importance.sizes())};
}

torch::Tensor rearrange_mask(const torch::Tensor& mask, const torch::Tensor& grads) {
  torch::NoGradGuard no_grad;
  torch::Tensor out = mask.to(torch::kCPU, torch::kFloat32).clone();
  const torch::Tensor all_grads = grads.to(torch::kCPU, torch::kFloat32);
  for (int64_t l = 0; l < out.size(0); ++l) {
    const int64_t n = out.size(1);
    const int64_t kept = (out[l] != 0).sum().item<int64_t>();
    const int64_t pruned = n - kept;
    if (kept == 0 || pruned == 0) continue;
    // [n, B]: each unit's per-batch gradient vector.
    const torch::Tensor unit_grads = all_grads.select(1, l).t().contiguous();
    const torch::Tensor order = std::get<1>(unit_grads.pow(2).sum(1).sort(0, false));
    std::vector<int64_t> ascending(order.data_ptr<int64_t>(), order.data_ptr<int64_t>() + n);
    std::vector<int64_t> pruned_set(ascending.begin(), ascending.begin() + pruned);
    for (int64_t i = pruned; i < n; ++i) {
      pruned_set.push_back(ascending[i]);
      const torch::Tensor vectors = unit_grads.index_select(0, torch::tensor(pruned_set));
      const torch::Tensor complement = vectors.sum(0) - vectors;  // sum without each unit
      const int64_t removed = complement.pow(2).sum(1).argmin().item<int64_t>();
      pruned_set.erase(pruned_set.begin() + removed);
    }
    out[l].fill_(1);
    out[l].index_fill_(0, torch::tensor(pruned_set), 0.0);
  }
  return out;
}

KwonTuning tune_masks(const EncoderModel& model, const std::vector<Batch>& host_batches,
                      const KwonMasks& teacher, const KwonMasks& student, bool classification,
                      KwonMode mode, bool tune_attention) {
  torch::NoGradGuard no_grad;
  const torch::Device device = model.device();
  const torch::ScalarType dtype = model.dtype();
  // Each batch's products are in the model's dtype; REF sums them in float32 as the official
  // code, CLEAN in float64.
  const torch::ScalarType acc = mode == KwonMode::ref ? torch::kFloat32 : torch::kFloat64;
  const int64_t num_layers = model.config().num_layers;
  const std::vector<torch::Tensor> teacher_masks = teacher.unit_masks(dtype, device);

  KwonTuning result;
  result.masks = {student.heads.to(torch::kCPU, torch::kFloat32).clone(),
                  student.neurons.to(torch::kCPU, torch::kFloat32).clone()};
  result.status.assign(2 * num_layers, "not reached");

  std::vector<Batch> batches;
  std::vector<torch::Tensor> biases, teacher_x, student_x;  // per batch: [B,1,1,T], [B,T,d]
  for (const Batch& b : host_batches) {
    batches.push_back(b.to(device));
    biases.push_back(model.attention_bias(batches.back()));
    teacher_x.push_back(model.embed(batches.back()));
    student_x.push_back(teacher_x.back());
  }

  // Solves, records, and applies one step; false when tuning must stop.
  auto finish_step = [&](KwonTuningStep step, int64_t s, torch::Tensor mask_row,
                         bool drop_last) -> bool {
    step.gram = step.gram.cpu();
    step.rhs = step.rhs.cpu();
    const int64_t unknowns = step.gram.size(0);
    if (unknowns == 1 && mode == KwonMode::ref) {
      // The official solver has no result for a 1x1 system ("solution" unbound): the run dies.
      step.status = "aborted: a single unknown (the official code crashes here)";
      result.status[s] = step.status;
      result.stopped_at = s;
      result.steps.push_back(std::move(step));
      return false;
    }
    DampedSolve solved = solve_damped(step.gram, step.rhs, mode);
    step.solve = solved.lsmr;
    step.solution = solved.solution;
    step.scale = drop_last ? solved.solution.slice(0, 0, unknowns - 1) : solved.solution;
    bool ok = solved.success;
    std::string why = "the solver failed (istop " + std::to_string(solved.lsmr.istop) + ")";
    if (ok && (step.scale.max().item<double>() > 10 || step.scale.min().item<double>() < -10)) {
      ok = false;
      why = "a scale outside [-10, 10]";
    }
    if (!ok) {
      step.status = "aborted: " + why;
      result.status[s] = step.status;
      result.stopped_at = s;
      result.steps.push_back(std::move(step));
      return false;
    }
    torch::Tensor units = torch::tensor(step.units);
    mask_row.index_copy_(0, units,
                         mask_row.index_select(0, units) * step.scale.to(torch::kFloat32));
    step.status = "applied";
    result.status[s] = step.status;
    result.steps.push_back(std::move(step));
    return true;
  };

  // Each sublayer runs once per batch for the teacher and once for the student, each over its
  // kept units only; the student's features are kept so that the tuned scales are applied by
  // the output projection alone.
  auto index_of = [&](const std::vector<int64_t>& units) {
    return torch::tensor(units, torch::kInt64).to(device);
  };
  for (int64_t l = 0; l < num_layers; ++l) {
    const int64_t s_mha = 2 * l, s_ffn = 2 * l + 1;
    const Sublayer& mha = model.sublayer(s_mha);
    const Sublayer& ffn = model.sublayer(s_ffn);

    // MHA: unknowns = kept heads + one constant column (per output element).
    const std::vector<int64_t> heads = nonzero_indices(student.heads[l]);
    const bool tune_mha = !heads.empty() && tune_attention && l > 0;
    if (heads.empty()) {
      result.status[s_mha] = "skipped: no head kept";
    } else if (!tune_attention) {
      result.status[s_mha] = "skipped: attention not tuned";
    } else if (l == 0) {
      result.status[s_mha] = "skipped: layer 0 attention is never tuned";
    }
    KwonTuningStep mha_step;
    const int64_t k_heads = static_cast<int64_t>(heads.size());
    const int64_t d = mha.hidden_size(), dh = mha.unit_width();
    const torch::Tensor head_index = index_of(heads);
    const torch::Tensor head_columns = mha.unit_columns(head_index);
    const torch::Tensor teacher_heads = index_of(nonzero_indices(teacher.heads[l]));
    const torch::Tensor teacher_head_columns = mha.unit_columns(teacher_heads);
    // W_o per kept head: [d, k, d_h].
    const torch::Tensor w_o = mha.out_weight().view({d, -1, dh}).index_select(1, head_index);
    if (tune_mha) {
      mha_step.layer = l;
      mha_step.kind = SublayerKind::attention;
      mha_step.units = heads;
      // Summed on the model's device (a copy per batch would wait for it), solved on the CPU.
      mha_step.gram = torch::zeros({k_heads + 1, k_heads + 1}, torch::dtype(acc).device(device));
      mha_step.rhs = torch::zeros({k_heads + 1}, torch::dtype(acc).device(device));
    }
    // Teacher and student MHA outputs of this layer; the student's output waits for its tuned
    // head scales when attention is tuned.
    std::vector<torch::Tensor> teacher_mid, student_mid, student_contexts;
    for (size_t b = 0; b < batches.size(); ++b) {
      SublayerProbe teacher_probe;
      teacher_mid.push_back(mha.project(teacher_x[b],
                                        mha.features(teacher_x[b], biases[b], teacher_heads),
                                        teacher_head_columns, &teacher_probe));
      student_contexts.push_back(mha.features(student_x[b], biases[b], head_index));  // [B,T,k·d_h]
      if (!tune_mha) {
        student_mid.push_back(mha.project(student_x[b], student_contexts.back(), head_columns));
        continue;
      }
      // [tokens, k, d_h] contexts of the kept heads -> per-head outputs [tokens, d, k].
      const torch::Tensor contexts =
          real_tokens(student_contexts.back(), batches[b]).view({-1, k_heads, dh});
      const torch::Tensor per_head = torch::einsum("thj,ohj->toh", {contexts, w_o});
      const torch::Tensor target = real_tokens(teacher_probe.pre_ln, batches[b]) - mha.out_bias() -
                                   real_tokens(student_x[b], batches[b]);
      torch::Tensor a =
          torch::cat({per_head, torch::ones_like(per_head.select(2, 0)).unsqueeze(2)}, 2)
              .reshape({-1, k_heads + 1});
      mha_step.gram += a.t().mm(a).to(acc);
      mha_step.rhs += a.t().mv(target.reshape(-1)).to(acc);
      mha_step.num_rows += a.size(0);
    }
    if (tune_mha) {
      if (!finish_step(std::move(mha_step), s_mha, result.masks.heads[l], true)) break;
      const torch::Tensor scales = result.masks.heads[l]
                                       .index_select(0, head_index.cpu())
                                       .to(device, dtype)
                                       .repeat_interleave(dh);
      for (size_t b = 0; b < batches.size(); ++b) {
        student_mid.push_back(
            mha.project(student_x[b], student_contexts[b] * scales, head_columns));
      }
    }
    student_contexts.clear();

    // FFN: one unknown per kept neuron; REF's teacher target uses ALL neurons of this layer.
    const std::vector<int64_t> neurons = nonzero_indices(student.neurons[l]);
    KwonTuningStep ffn_step;
    const int64_t k = static_cast<int64_t>(neurons.size());
    const torch::Tensor neuron_index = index_of(neurons);
    const torch::Tensor teacher_neurons = index_of(nonzero_indices(teacher.neurons[l]));
    const torch::Tensor w = ffn.out_weight().index_select(1, neuron_index);  // [d, k]
    if (neurons.empty()) {
      result.status[s_ffn] = "skipped: no neuron kept";
    } else {
      ffn_step.layer = l;
      ffn_step.kind = SublayerKind::feed_forward;
      ffn_step.units = neurons;
      ffn_step.cls_only = classification && l == num_layers - 1;
      ffn_step.gram = torch::zeros({k, k}, torch::dtype(acc).device(device));
      ffn_step.rhs = torch::zeros({k}, torch::dtype(acc).device(device));
    }
    const torch::Tensor w_gram = w.t().mm(w);  // [k, k]
    auto rows = [&](const torch::Tensor& t, const Batch& batch) {
      return ffn_step.cls_only ? t.select(1, 0) : real_tokens(t, batch);
    };
    std::vector<torch::Tensor> student_act;  // per batch [B, T, k]
    for (size_t b = 0; b < batches.size(); ++b) {
      SublayerProbe teacher_probe;
      if (mode == KwonMode::ref) {
        // The official recording hook sees the activations before the neuron mask.
        ffn.forward(teacher_mid[b], biases[b], {}, &teacher_probe);
        teacher_x[b] = ffn.project(teacher_mid[b], teacher_probe.features * teacher_masks[s_ffn]);
      } else {
        teacher_x[b] =
            ffn.project(teacher_mid[b], ffn.features(teacher_mid[b], biases[b], teacher_neurons),
                        teacher_neurons, &teacher_probe);
      }
      student_act.push_back(ffn.features(student_mid[b], biases[b], neuron_index));
      if (neurons.empty()) continue;
      // [rows, k] activations of the kept neurons; target [rows, d].
      const torch::Tensor act = rows(student_act.back(), batches[b]);
      const torch::Tensor target = rows(teacher_probe.pre_ln, batches[b]) - ffn.out_bias() -
                                   rows(student_mid[b], batches[b]);
      ffn_step.gram += (w_gram * act.t().mm(act)).to(acc);
      ffn_step.rhs += (act * target.mm(w)).sum(0).to(acc);
      ffn_step.num_rows += act.size(0) * ffn.hidden_size();
    }
    if (!neurons.empty() &&
        !finish_step(std::move(ffn_step), s_ffn, result.masks.neurons[l], false)) {
      break;
    }

    // The student's inputs of the next layer, with its tuned neuron scales.
    const torch::Tensor scales =
        result.masks.neurons[l].index_select(0, neuron_index.cpu()).to(device, dtype);
    for (size_t b = 0; b < batches.size(); ++b) {
      student_x[b] = ffn.project(student_mid[b], student_act[b] * scales, neuron_index);
    }
  }
  return result;
}

KwonResult run_kwon(const EncoderModel& model, const std::vector<Batch>& batches,
                    HeadKind head_kind, double flops_reduction, double seq_len,
                    const KwonOptions& options) {
  if (!(flops_reduction >= 0 && flops_reduction < 1)) {
    fail("Kwon: the FLOPs reduction must lie in [0, 1), got {}", flops_reduction);
  }
  KwonResult result;
  Stopwatch clock;
  result.grads = collect_mask_grads(model, batches, head_kind);
  result.fisher_seconds = clock.seconds();
  result.macs = kwon_macs(model.config(), seq_len);
  // The official code takes the kept fraction c < 1; ρ = 0 keeps everything.
  result.kept_fraction = std::round((1 - flops_reduction) * 1e12) / 1e12;
  result.teacher_kept_fraction = std::pow(result.kept_fraction, 0.5);
  const torch::Tensor head_importance = result.grads.head_importance();
  const torch::Tensor neuron_importance = result.grads.neuron_importance();
  if (flops_reduction == 0) {
    result.teacher = {torch::ones_like(head_importance), torch::ones_like(neuron_importance)};
    result.search = result.rearranged = result.final_masks = result.teacher;
    return result;
  }
  clock.reset();
  result.teacher = search_masks(head_importance, neuron_importance, result.macs,
                                result.teacher_kept_fraction, options.mode);
  result.search = search_masks(head_importance, neuron_importance, result.macs,
                               result.kept_fraction, options.mode);
  result.search_seconds = clock.seconds();
  clock.reset();
  result.rearranged = result.search;
  if (options.rearrange) {
    result.rearranged = {rearrange_mask(result.search.heads, result.grads.heads),
                         rearrange_mask(result.search.neurons, result.grads.neurons)};
  }
  result.rearrange_seconds = clock.seconds();
  clock.reset();
  result.final_masks = result.rearranged;
  if (options.tune) {
    result.tuning = tune_masks(model, batches, result.teacher, result.rearranged,
                               head_kind != HeadKind::question_answering, options.mode);
    result.final_masks = result.tuning->masks;
  }
  result.tune_seconds = clock.seconds();
  return result;
}

namespace {

nlohmann::json masks_json(const KwonMasks& masks) {
  auto rows = [](const torch::Tensor& t) {
    std::vector<std::vector<float>> out;
    const torch::Tensor c = t.to(torch::kCPU, torch::kFloat32).contiguous();
    for (int64_t i = 0; i < c.size(0); ++i) {
      out.emplace_back(c[i].data_ptr<float>(), c[i].data_ptr<float>() + c.size(1));
    }
    return out;
  };
  return {{"head_mask", rows(masks.heads)},
          {"neuron_mask", rows(masks.neurons)},
          {"heads_per_layer", masks.heads_per_layer()},
          {"neurons_per_layer", masks.neurons_per_layer()}};
}

nlohmann::json step_json(const KwonTuningStep& step) {
  auto values = [](const torch::Tensor& t) {
    const torch::Tensor c = t.to(torch::kCPU, torch::kFloat64).contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  };
  return {{"layer", step.layer},
          {"kind", to_string(step.kind)},
          {"units", step.units},
          {"cls_only", step.cls_only},
          {"num_rows", step.num_rows},
          {"lsmr", {{"istop", step.solve.istop}, {"itn", step.solve.iterations}}},
          {"scale", step.scale.defined() ? values(step.scale) : std::vector<double>{}},
          {"status", step.status}};
}

class KwonPruner : public Pruner {
 public:
  KwonPruner(bool rearrange, bool tune) : rearrange_(rearrange), tune_(tune) {}

  PruneReport prune(EncoderModel& model, const PruneInput& input) override {
    KwonOptions options;
    options.mode = parse_kwon_mode(input.params.get_string("mode", "clean"));
    options.rearrange = rearrange_;
    options.tune = tune_;
    const EncoderConfig original = model.config();
    const KwonResult result = run_kwon(model, *input.sample_batches, input.head_kind,
                                       input.flops_reduction, input.flops_seq_len, options);
    apply_unit_masks(model, result.final_masks.heads, result.final_masks.neurons,
                     EmptySublayer::keep_bias);

    PruneReport report;
    report_masks(result.final_masks, report);
    report.flops_before = full_model_flops(original, input.flops_seq_len) / 1e9;
    report.flops_after = model_flops(model.config(), input.flops_seq_len) / 1e9;
    report.flops_budget = (1 - input.flops_reduction) * report.flops_before;
    for (int64_t s = 0; s < model.num_sublayers(); ++s) {
      SublayerReport sub;
      sub.kept = model.sublayer(s).num_units();
      sub.total = s % 2 == 0 ? original.num_heads : original.intermediate_size;
      if (result.tuning) sub.tuning = result.tuning->status[s];
      report.sublayers.push_back(sub);
    }
    nlohmann::json details = {{"mode", options.mode == KwonMode::ref ? "ref" : "clean"},
                              {"kept_mac_fraction", result.kept_fraction},
                              {"teacher_kept_mac_fraction", result.teacher_kept_fraction},
                              {"mac_per_head", result.macs.per_head},
                              {"mac_per_neuron", result.macs.per_neuron},
                              {"original_mac", result.macs.original},
                              {"teacher", masks_json(result.teacher)},
                              {"search", masks_json(result.search)},
                              {"rearranged", masks_json(result.rearranged)},
                              {"seconds",
                               {{"fisher", result.fisher_seconds},
                                {"search", result.search_seconds},
                                {"rearrange", result.rearrange_seconds},
                                {"tune", result.tune_seconds}}}};
    if (result.tuning) {
      nlohmann::json steps = nlohmann::json::array();
      for (const KwonTuningStep& step : result.tuning->steps) steps.push_back(step_json(step));
      details["tuning"] = {
          {"steps", steps},
          {"stopped_at", result.tuning->stopped_at ? nlohmann::json(*result.tuning->stopped_at)
                                                   : nlohmann::json()}};
    }
    report.details.update(details);
    return report;
  }

 private:
  bool rearrange_, tune_;
};

std::vector<PrunerParam> kwon_params() {
  return {{"mode", "clean",
           "ref: the official code (search may exceed the budget at tight ratios, float32 "
           "LSMR); clean: search only within the MAC budget, closed-form float64 solve"}};
}

}  // namespace

void report_masks(const KwonMasks& masks, PruneReport& report) {
  const KwonMasks kept{(masks.heads != 0).to(torch::kFloat32),
                       (masks.neurons != 0).to(torch::kFloat32)};
  const nlohmann::json kept_json = masks_json(kept);
  report.head_masks = kept_json.at("head_mask").get<std::vector<std::vector<float>>>();
  report.neuron_masks = kept_json.at("neuron_mask").get<std::vector<std::vector<float>>>();
  report.details["tuned"] = masks_json(masks);
}

PrunerInfo kwon_pruner_info() {
  return {"kwon",
          "Kwon et al. 2022: Fisher mask search under the MAC budget, mask rearrangement, "
          "least-squares mask tuning (2048 labelled samples)",
          kwon_params(), true, [] { return std::make_unique<KwonPruner>(true, true); }};
}

PrunerInfo kwon_notune_pruner_info() {
  return {"kwon-notune", "Kwon et al. without mask tuning (search and rearrangement)",
          kwon_params(), true, [] { return std::make_unique<KwonPruner>(true, false); }};
}

PrunerInfo fisher_pruner_info() {
  return {"fisher", "Fisher-only: Kwon et al.'s mask search, no rearrangement, no tuning",
          kwon_params(), true, [] { return std::make_unique<KwonPruner>(false, false); }};
}

}  // namespace kprune
