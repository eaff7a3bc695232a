#include "framework/prune/kprune.h"

#include <fmt/format.h>

#include <memory>
#include <optional>

#include "framework/model/flops.h"
#include "framework/util/error.h"
#include "framework/util/progress.h"
#include "framework/util/timer.h"

namespace kprune {

KpruneOptions KpruneOptions::from_params(const Params& params) {
  KpruneOptions options;
  options.lam_pred = params.get_double("lam_pred", options.lam_pred);
  options.mu = params.get_double("mu", options.mu);
  options.temperature = params.get_double("T", options.temperature);
  options.tuning = params.get_bool("tuning", options.tuning);
  options.oneshot = params.get_bool("oneshot", options.oneshot);
  options.mode = parse_selection_mode(params.get_string("mode", "clean"));
  options.weighting = parse_knowledge_weighting(params.get_string("weighting", "paper"));
  // The paper's λ_rep balances the terms' BERT-base magnitudes; normalized λs are shares.
  options.lam_rep = params.get_double(
      "lam_rep", options.weighting == KnowledgeWeighting::normalized ? 1.0 : options.lam_rep);
  if (options.mode == SelectionMode::ref && options.weighting != KnowledgeWeighting::paper)
    fail(
        "kprune: mode=ref is the official code and weights knowledge as the paper; "
        "weighting={} needs mode=clean",
        to_string(options.weighting));
  options.chunk_tokens = params.get_int("chunk_tokens", options.chunk_tokens);
  if (options.chunk_tokens < 1)
    fail("kprune: chunk_tokens must be at least 1, got {}", options.chunk_tokens);
  return options;
}

KnowledgeWeighting parse_knowledge_weighting(const std::string& text) {
  if (text == "paper") return KnowledgeWeighting::paper;
  if (text == "normalized") return KnowledgeWeighting::normalized;
  fail("kprune: weighting must be paper or normalized, got '{}'", text);
}

std::string to_string(KnowledgeWeighting weighting) {
  return weighting == KnowledgeWeighting::paper ? "paper" : "normalized";
}

torch::Tensor distillation_kl(const torch::Tensor& logits, const torch::Tensor& teacher_probs,
                              double temperature) {
  const double t = temperature;
  const auto log_q = torch::log_softmax(logits / t, 1);
  return torch::kl_div(log_q, teacher_probs, at::Reduction::Sum) / logits.size(0) * (t * t);
}

namespace {

// Parameters must not collect gradients during measurement (only the masks do); restored after.
class FrozenParameters {
 public:
  explicit FrozenParameters(EncoderModel& model) : model_(model) { freeze(); }
  ~FrozenParameters() {
    for (auto& p : model_.parameters()) p.requires_grad_(true);
  }
  void freeze() {
    for (auto& p : model_.parameters()) p.requires_grad_(false);
  }

 private:
  EncoderModel& model_;
};

// Rows of `x` [B, T, ...] at real tokens -> [tokens, ...], batch-major, position-minor.
torch::Tensor real_tokens(const torch::Tensor& x, const torch::Tensor& token_mask) {
  return x.index({token_mask});
}

// What the teacher said about one batch at iteration 0 (algorithms.md 4.2).
struct TeacherLabels {
  torch::Tensor probs;                   // classification softmax(z/T) [B, C]; regression logits
  torch::Tensor start_probs, end_probs;  // question answering [B, T]
};

TeacherLabels teacher_labels(const ModelOutput& output, const KpruneOptions& options) {
  TeacherLabels labels;
  const double t = options.temperature;
  switch (options.head_kind) {
    case HeadKind::classification:
      labels.probs = torch::softmax(output.logits / t, 1).detach();
      break;
    case HeadKind::regression:
      labels.probs = output.logits.detach();  // [B, 1]
      break;
    case HeadKind::question_answering:
      labels.start_probs = torch::softmax(output.start_logits / t, 1).detach();
      labels.end_probs = torch::softmax(output.end_logits / t, 1).detach();
      break;
  }
  return labels;
}

TeacherLabels slice_labels(const TeacherLabels& labels, int64_t first, int64_t count) {
  auto rows = [&](const torch::Tensor& t) { return t.defined() ? t.narrow(0, first, count) : t; };
  return {rows(labels.probs), rows(labels.start_probs), rows(labels.end_probs)};
}

TeacherLabels concat_labels(const std::vector<TeacherLabels>& chunks) {
  if (chunks.size() == 1) return chunks.front();
  auto cat = [&](torch::Tensor TeacherLabels::*member) {
    std::vector<torch::Tensor> parts;
    for (const TeacherLabels& chunk : chunks) parts.push_back(chunk.*member);
    return parts.front().defined() ? torch::cat(parts) : torch::Tensor();
  };
  return {cat(&TeacherLabels::probs), cat(&TeacherLabels::start_probs),
          cat(&TeacherLabels::end_probs)};
}

// Predictive loss of algorithms.md 4.3 (REF keeps the B×B broadcasting MSE of 4.9 Q3).
torch::Tensor predictive_loss(const ModelOutput& output, const TeacherLabels& teacher,
                              const KpruneOptions& options) {
  const double t = options.temperature;
  switch (options.head_kind) {
    case HeadKind::classification:
      return distillation_kl(output.logits, teacher.probs, t);
    case HeadKind::regression:
      if (options.mode == SelectionMode::ref) {
        // [B, 1] - [B] -> [B, B]: mean over i, j of (z_i - t_j)².
        return (output.logits - teacher.probs.reshape({-1})).pow(2).mean();
      }
      return (output.logits - teacher.probs).pow(2).mean();
    case HeadKind::question_answering:
      return (distillation_kl(output.start_logits, teacher.start_probs, t) +
              distillation_kl(output.end_logits, teacher.end_probs, t)) /
             2;
  }
  fail("kprune: unknown head kind");
}

// Least squares on the accumulated normal equations G W = C (G [k, k], C [k, d]).
struct Solution {
  std::optional<torch::Tensor> weight;  // [k, d]
  std::string fallback;                 // non-empty when CLEAN needed a ridge or SVD
};

Solution solve_ref(const torch::Tensor& gram, const torch::Tensor& rhs) {
  // As the reference: torch.linalg.lstsq(ATA, ATB, rcond=0) with gels (QR), float32.
  try {
    auto result = torch::linalg_lstsq(gram, rhs, 0.0, "gels");
    auto weight = std::get<0>(result);
    if (!torch::isfinite(weight).all().item<bool>()) return {};
    return {std::optional<torch::Tensor>(weight), ""};
  } catch (const c10::Error&) {
    return {};
  }
}

Solution solve_clean(const torch::Tensor& gram, const torch::Tensor& rhs) {
  auto cholesky_solve = [&](const torch::Tensor& matrix) -> std::optional<torch::Tensor> {
    auto [factor, info] = torch::linalg_cholesky_ex(matrix);
    if (info.item<int64_t>() != 0) return std::nullopt;
    return torch::cholesky_solve(rhs, factor);
  };
  if (auto weight = cholesky_solve(gram)) return {std::optional<torch::Tensor>(*weight), ""};
  const int64_t k = gram.size(0);
  const double ridge = 1e-8 * gram.trace().item<double>() / static_cast<double>(k);
  if (auto weight = cholesky_solve(gram + ridge * torch::eye(k, gram.options()))) {
    return {std::optional<torch::Tensor>(*weight), fmt::format("ridge {:.3g}", ridge)};
  }
  auto weight = std::get<0>(torch::linalg_lstsq(gram, rhs, c10::nullopt, "gelsd"));
  return {std::optional<torch::Tensor>(weight), "svd"};
}

class KpruneRun {
 public:
  KpruneRun(EncoderModel& model, const std::vector<Batch>& batches, const KpruneOptions& options,
            std::vector<KpruneStep>* steps)
      : model_(model), batches_(batches), options_(options), steps_(steps), frozen_(model) {
    const EncoderConfig& config = model.config();
    num_layers_ = config.num_layers;
    num_heads_ = config.num_heads;
    head_dim_ = config.head_dim;
    num_neurons_ = config.intermediate_size;
    if (config.is_pruned()) fail("kprune: the model is already pruned; give it the unpruned one");
    f_head_ = head_flops(config, options.flops_seq_len) / 1e9;
    f_neuron_ = neuron_flops(config, options.flops_seq_len) / 1e9;
    flops_before_ = model_flops(config, options.flops_seq_len) / 1e9;
    budget_ = flops_before_ * (1.0 - options.flops_reduction);
    report_.flops_before = flops_before_;
    report_.flops_budget = budget_;
    report_.head_masks.assign(num_layers_, std::vector<float>(num_heads_, 1.0f));
    report_.neuron_masks.assign(num_layers_, std::vector<float>(num_neurons_, 1.0f));
    report_.sublayers.resize(2 * num_layers_);
  }

  PruneReport run() {
    torch::NoGradGuard outer_no_grad;
    for (const Batch& raw : batches_) {
      Batch batch = raw.to(model_.device());
      StreamEntry entry;
      entry.batch = batch;
      entry.bias = model_.attention_bias(batch);
      entry.token_mask = batch.attention_mask.to(torch::kBool);
      entry.student = model_.embed(batch);
      if (options_.tuning) entry.teacher = entry.student;
      num_samples_ += batch.size();
      num_tokens_ += batch.attention_mask.sum().item<int64_t>();
      stream_.push_back(std::move(entry));
    }
    // One line per 10 s: BERT-base with the paper's 100K tokens runs for an hour on a CPU.
    Progress progress("kprune", 2 * num_layers_, 10.0);
    for (int64_t s = 0; s < 2 * num_layers_; ++s) {
      iterate(s);
      const SublayerReport& sub = report_.sublayers[s];
      progress.update(s + 1, fmt::format("layer {} {}: kept {}/{}", s / 2,
                                         is_ffn(s) ? "FFN" : "MHA", sub.kept, sub.total));
    }
    report_.flops_after = model_flops(model_.config(), options_.flops_seq_len) / 1e9;
    report_.details["mode"] = to_string(options_.mode);
    report_.details["weighting"] = to_string(options_.weighting);
    report_.details["num_samples"] = num_samples_;
    report_.details["num_tokens"] = num_tokens_;
    report_.details["f_head"] = f_head_;
    report_.details["f_neuron"] = f_neuron_;
    return report_;
  }

 private:
  struct StreamEntry {
    Batch batch;
    torch::Tensor bias, token_mask;
    torch::Tensor student;  // input of the current sublayer in the current model [B, T, d]
    torch::Tensor teacher;  // the same in the original model
    TeacherLabels labels;
  };

  bool is_ffn(int64_t s) const { return s % 2 == 1; }

  // One iteration: measure (one-shot: only at s = 0), select, prune, tune, advance the streams.
  void iterate(int64_t s) {
    const int64_t layer = s / 2;
    const bool measure = !options_.oneshot || s == 0;
    SublayerReport& sub = report_.sublayers[s];
    sub.total = model_.sublayer(s).num_units();
    frozen_.freeze();

    Stopwatch measure_clock;
    std::vector<torch::Tensor> pred, rep;
    if (measure) measure_knowledge(s, pred, rep);
    sub.measure_seconds = measure_clock.seconds();

    Stopwatch search_clock;
    std::vector<bool> keep;
    if (measure) {
      auto [head_scores, neuron_scores] = scores(s, pred, rep);
      keep = select(s, head_scores, neuron_scores);
      report_.details["knowledge"].push_back(knowledge_record(s, pred, rep, kept_per_sublayer_));
      if (steps_) {
        steps_->push_back({s, head_scores, neuron_scores, budget_, keep, ""});
      }
    } else {
      keep = oneshot_keep_[s];
      if (steps_) steps_->push_back({s, {}, {}, budget_, keep, ""});
    }
    sub.search_seconds = search_clock.seconds();

    std::vector<int64_t> kept_units;
    for (size_t u = 0; u < keep.size(); ++u) {
      if (keep[u]) kept_units.push_back(static_cast<int64_t>(u));
    }
    const int64_t kept = static_cast<int64_t>(kept_units.size());
    sub.kept = kept;
    if (kept < sub.total) student_is_teacher_ = false;
    auto& mask_row = is_ffn(s) ? report_.neuron_masks[layer] : report_.head_masks[layer];
    for (size_t u = 0; u < keep.size(); ++u) mask_row[u] = keep[u] ? 1.0f : 0.0f;

    // Prune first: a kept unit's features do not depend on the other units, so KPWT's normal
    // equations over the shrunk sublayer are the kept rows/columns of the full ones, at
    // (kept / total)² of the cost.
    Stopwatch tune_clock;
    sub.tuning = tuning_decision(s, kept, static_cast<int64_t>(keep.size()));
    // The teacher needs only this sublayer, still unpruned: a copy of it, not of the model.
    const std::shared_ptr<Sublayer> teacher =
        options_.tuning ? model_.sublayer(s).clone() : nullptr;
    model_.sublayer(s).shrink(kept_units);
    if (sub.tuning.empty()) {
      tune(s, *teacher);
    } else if (options_.tuning) {
      for (StreamEntry& entry : stream_) teacher_pre_ln_sum(*teacher, entry);  // keep it in step
    }
    sub.tune_seconds = tune_clock.seconds();
    if (steps_) steps_->back().tuning = sub.tuning;

    const double unit_flops = is_ffn(s) ? f_neuron_ : f_head_;
    if (options_.mode == SelectionMode::ref) {
      budget_ = ref_budget_after(static_cast<float>(budget_), kept, unit_flops);
    } else {
      budget_ -= static_cast<double>(kept) * unit_flops;
    }
    // Advance the student stream past the pruned sublayer s: a forward pass, so measurement.
    Stopwatch advance_clock;
    for (StreamEntry& entry : stream_) {
      entry.student = model_.sublayer(s).forward(entry.student, entry.bias);
    }
    sub.measure_seconds += advance_clock.seconds();
  }

  // Knowledge measurement of algorithms.md 4.3 over sublayers s … 2L−1 (one-shot: all of them
  // at s = 0): per feature column, pred = Σ_b ½ g_b² and rep = Σ_t a_t² · mean_r W[r]².
  void measure_knowledge(int64_t s, std::vector<torch::Tensor>& pred,
                         std::vector<torch::Tensor>& rep) {
    const int64_t end = 2 * num_layers_;
    auto options = torch::TensorOptions().dtype(model_.dtype()).device(model_.device());
    // Mask variables, one per feature column.
    std::vector<torch::Tensor> masks(end);
    pred.assign(end, {});
    rep.assign(end, {});
    weight_norms_.assign(end, {});
    pre_ln_square_.assign(end, {});
    for (int64_t t = s; t < end; ++t) {
      masks[t] = torch::ones({model_.sublayer(t).num_features()}, options).requires_grad_(true);
      pred[t] = torch::zeros({model_.sublayer(t).num_features()}, options);
      rep[t] = torch::zeros_like(pred[t]);
      weight_norms_[t] = model_.sublayer(t).out_weight().pow(2).mean(0);
      pre_ln_square_[t] = torch::zeros({}, options);
    }
    for (StreamEntry& entry : stream_) {
      // A batch's mask gradient is the sum of its chunks' (the loss is a sum over samples / B),
      // so only one chunk's autograd graph is alive at a time. REF's regression loss couples
      // all pairs of samples (4.9 Q3): one chunk.
      const int64_t rows = entry.batch.size();
      const bool coupled =
          options_.mode == SelectionMode::ref && options_.head_kind == HeadKind::regression;
      const int64_t chunk = coupled ? rows : measure_chunk_rows(entry.student.size(1));
      std::vector<torch::Tensor> batch_grads(end);
      std::vector<TeacherLabels> chunk_labels;
      for (int64_t first = 0; first < rows; first += chunk) {
        const int64_t count = std::min(chunk, rows - first);
        const torch::Tensor bias = entry.bias.narrow(0, first, count);
        std::vector<SublayerProbe> probes(end);
        ForwardOptions forward;
        forward.probes = &probes;
        forward.unit_masks = &masks;
        torch::AutoGradMode grad_mode(true);
        auto hidden =
            model_.run_sublayers(s, end, entry.student.narrow(0, first, count), bias, forward);
        ModelOutput output = model_.head(hidden);
        if (s == 0) chunk_labels.push_back(teacher_labels(output, options_));
        const TeacherLabels labels =
            s == 0 ? chunk_labels.back() : slice_labels(entry.labels, first, count);
        auto loss = predictive_loss(output, labels, options_) *
                    (static_cast<double>(count) / static_cast<double>(rows));
        std::vector<torch::Tensor> inputs(masks.begin() + s, masks.end());
        auto grads = torch::autograd::grad({loss}, inputs, {}, false, false, true);
        torch::NoGradGuard no_grad;
        const torch::Tensor token_mask = entry.token_mask.narrow(0, first, count);
        for (int64_t t = s; t < end; ++t) {
          const auto& g = grads[t - s];
          if (g.defined()) batch_grads[t] = batch_grads[t].defined() ? batch_grads[t] + g : g;
          auto features = real_tokens(probes[t].features.detach(), token_mask);
          rep[t] += features.pow(2).sum(0) * weight_norms_[t];
          pre_ln_square_[t] +=
              real_tokens(probes[t].pre_ln.detach(), token_mask).pow(2).mean(1).sum();
        }
      }
      if (s == 0) entry.labels = concat_labels(chunk_labels);
      torch::NoGradGuard no_grad;
      for (int64_t t = s; t < end; ++t) {
        if (batch_grads[t].defined()) pred[t] += batch_grads[t].pow(2) * 0.5;
      }
    }
  }

  // Sequences per measurement chunk: about chunk_tokens padded positions, at least one.
  int64_t measure_chunk_rows(int64_t padded_length) const {
    return std::max<int64_t>(1, options_.chunk_tokens / std::max<int64_t>(1, padded_length));
  }

  // KPWT (algorithms.md 4.6) of the already shrunk sublayer s: accumulates AᵀA [k, k] and
  // AᵀY [k, d] batch by batch (REF: the reference's float32; CLEAN: float64), advances the
  // teacher stream, solves and writes the new output weight.
  void tune(int64_t s, const Sublayer& teacher) {
    Sublayer& sublayer = model_.sublayer(s);
    SublayerReport& sub = report_.sublayers[s];
    const auto solve_dtype =
        options_.mode == SelectionMode::ref ? model_.dtype() : torch::ScalarType::Double;
    const int64_t columns = sublayer.num_features();
    auto options = torch::TensorOptions().dtype(solve_dtype).device(model_.device());
    torch::Tensor gram = torch::zeros({columns, columns}, options);
    torch::Tensor rhs = torch::zeros({columns, sublayer.hidden_size()}, options);
    const torch::Tensor out_bias = sublayer.out_bias().detach();
    for (StreamEntry& entry : stream_) {
      SublayerProbe probe;
      sublayer.forward(entry.student, entry.bias, {}, &probe);
      auto features = real_tokens(probe.features, entry.token_mask).to(solve_dtype);
      auto input = real_tokens(entry.student, entry.token_mask);
      auto target = (teacher_pre_ln_sum(teacher, entry) - input - out_bias).to(solve_dtype);
      gram += features.t().matmul(features);
      rhs += features.t().matmul(target);
    }
    Solution solution =
        options_.mode == SelectionMode::ref ? solve_ref(gram, rhs) : solve_clean(gram, rhs);
    if (!solution.weight) {
      sub.tuning = "skipped: solver failed";
      return;
    }
    sublayer.set_out_weight(solution.weight->t().to(model_.dtype()).contiguous());
    sub.tuning = "applied";
    if (!solution.fallback.empty()) {
      report_.fallbacks.push_back(fmt::format("sublayer {}: {}", s, solution.fallback));
      sub.tuning += " (" + solution.fallback + ")";
    }
  }

  // Z_T^s of one batch at real tokens; also advances the teacher stream past s (KPWT is the
  // only user of the teacher stream, so it advances only when tuning).
  torch::Tensor teacher_pre_ln_sum(const Sublayer& teacher, StreamEntry& entry) {
    SublayerProbe probe;
    entry.teacher = teacher.forward(entry.teacher, entry.bias, {}, &probe);
    return real_tokens(probe.pre_ln, entry.token_mask);
  }

  // "" when KPWT runs, else why not (REF: FFN with nothing pruned keeps its weights, 4.9 Q6).
  std::string tuning_decision(int64_t s, int64_t kept, int64_t total) const {
    if (!options_.tuning) return "skipped: tuning off";
    if (kept == 0) return "skipped: sublayer removed";
    if (options_.mode == SelectionMode::ref && is_ffn(s) && kept == total) {
      return "skipped: no neuron pruned";
    }
    return "";
  }

  // Scores of algorithms.md 4.4 as [L, H] and [L, I] (rows of finished layers 0). The paper's
  // weighting is kept operation for operation (REF reproduces the official code's floats).
  std::pair<torch::Tensor, torch::Tensor> scores(int64_t s, const std::vector<torch::Tensor>& pred,
                                                 const std::vector<torch::Tensor>& rep) const {
    auto options = pred[s].options();
    torch::Tensor head_scores = torch::zeros({num_layers_, num_heads_}, options);
    torch::Tensor neuron_scores = torch::zeros({num_layers_, num_neurons_}, options);
    if (options_.weighting == KnowledgeWeighting::normalized) {
      const std::vector<UnitTerms> terms = unit_terms(s, pred, rep);
      for (int64_t t = s; t < 2 * num_layers_; ++t) {
        if (!terms[t].pred.defined()) continue;
        (is_ffn(t) ? neuron_scores : head_scores)[t / 2] = terms[t].pred + terms[t].rep;
      }
      return {head_scores, neuron_scores};
    }
    const double samples = static_cast<double>(num_samples_);
    for (int64_t t = s; t < 2 * num_layers_; ++t) {
      if (!pred[t].defined() || pred[t].numel() == 0) continue;
      const int64_t layer = t / 2;
      if (is_ffn(t)) {
        auto knowledge =
            per_token(rep[t], t) * options_.lam_rep + (pred[t] / samples) * options_.lam_pred;
        neuron_scores[layer] = knowledge / f_neuron_;
      } else {
        auto rep_heads = per_token(rep[t].view({-1, head_dim_}).mean(1), t);
        auto pred_heads = pred[t].view({-1, head_dim_}).mean(1) / samples;
        head_scores[layer] =
            options_.mu * (rep_heads * options_.lam_rep + pred_heads * options_.lam_pred) / f_head_;
      }
    }
    return {head_scores, neuron_scores};
  }

  // A representational sum of sublayer t ([columns] or [heads]) over the sample: divided by
  // the sample tokens (paper), or by the tokens times the mean square of the sublayer's
  // LayerNorm input (normalized: LayerNorm removes that scale, so a column's knowledge becomes
  // its share of what the normalized output is made of).
  torch::Tensor per_token(const torch::Tensor& rep_sum, int64_t t) const {
    if (options_.weighting == KnowledgeWeighting::paper) {
      return rep_sum / static_cast<double>(num_tokens_);
    }
    return rep_sum / pre_ln_square_[t];  // Σ_tokens mean_d z² = tokens · E[z²]
  }

  // What each knowledge term adds to the scores of sublayer t's units ([units], after λ, μ and
  // the FLOPs division; undefined for sublayers not measured). normalized divides each term by
  // its sum over every candidate unit, so that λ_pred and λ_rep are the terms' shares whatever
  // their scales; the predictive term is zero while the student is the teacher (its gradient
  // vanishes there, and normalizing float noise would give it a full share).
  struct UnitTerms {
    torch::Tensor pred, rep;
  };
  std::vector<UnitTerms> unit_terms(int64_t s, const std::vector<torch::Tensor>& pred,
                                    const std::vector<torch::Tensor>& rep) const {
    const double samples = static_cast<double>(num_samples_);
    std::vector<UnitTerms> terms(2 * num_layers_);
    double pred_total = 0, rep_total = 0;
    for (int64_t t = s; t < 2 * num_layers_; ++t) {
      if (!pred[t].defined() || pred[t].numel() == 0) continue;
      torch::Tensor p = pred[t] / samples, r = per_token(rep[t], t);  // [columns]
      if (!is_ffn(t)) {
        p = p.view({-1, head_dim_}).mean(1) * options_.mu;
        r = r.view({-1, head_dim_}).mean(1) * options_.mu;
      }
      pred_total += p.sum().item<double>();
      rep_total += r.sum().item<double>();
      terms[t] = {p, r};
    }
    const bool normalized = options_.weighting == KnowledgeWeighting::normalized;
    const bool no_pred = normalized && (student_is_teacher_ || pred_total <= 0);
    const double pred_scale = no_pred ? 0 : options_.lam_pred / (normalized ? pred_total : 1);
    const double rep_scale =
        normalized && rep_total <= 0 ? 0 : options_.lam_rep / (normalized ? rep_total : 1);
    for (int64_t t = s; t < 2 * num_layers_; ++t) {
      if (!terms[t].pred.defined()) continue;
      const double flops = is_ffn(t) ? f_neuron_ : f_head_;
      terms[t] = {terms[t].pred * (pred_scale / flops), terms[t].rep * (rep_scale / flops)};
    }
    return terms;
  }

  // The diagnosis of one measurement (details["knowledge"]): per remaining sublayer, the raw
  // knowledge terms per unit (heads: per column, before μ), what they are made of (squared
  // features, squared output weights, the LayerNorm input's mean square) and each term's share
  // of the score (after λ, μ and the FLOPs division), with how many units the selection kept.
  nlohmann::json knowledge_record(int64_t s, const std::vector<torch::Tensor>& pred,
                                  const std::vector<torch::Tensor>& rep,
                                  const std::vector<int64_t>& kept) const {
    const double samples = static_cast<double>(num_samples_);
    const double tokens = static_cast<double>(num_tokens_);
    const std::vector<UnitTerms> terms = unit_terms(s, pred, rep);
    auto mean = [](const torch::Tensor& x) { return x.mean().item<double>(); };
    nlohmann::json sublayers = nlohmann::json::array();
    for (int64_t t = s; t < 2 * num_layers_; ++t) {
      if (!terms[t].pred.defined()) continue;
      sublayers.push_back({{"sublayer", t},
                           {"kind", is_ffn(t) ? "neurons" : "heads"},
                           {"units", model_.sublayer(t).num_units()},
                           {"kept", kept[t]},
                           {"pred", mean(pred[t]) / samples},
                           {"rep", mean(per_token(rep[t], t))},
                           {"feature_square", mean(rep[t] / weight_norms_[t]) / tokens},
                           {"weight_square", mean(weight_norms_[t])},
                           {"pre_ln_square", pre_ln_square_[t].item<double>() / tokens},
                           {"score_pred", mean(terms[t].pred)},
                           {"score_rep", mean(terms[t].rep)}});
    }
    return {{"step", s}, {"sublayers", sublayers}};
  }

  // KPMS over the remaining units; returns the target's keep-mask. One-shot: selects every
  // sublayer at s = 0 and remembers the masks.
  std::vector<bool> select(int64_t s, const torch::Tensor& head_scores,
                           const torch::Tensor& neuron_scores) {
    const int64_t layer = s / 2;
    auto heads = head_scores.to(torch::kDouble).cpu().contiguous();
    auto neurons = neuron_scores.to(torch::kDouble).cpu().contiguous();
    std::vector<double> candidate_scores, candidate_flops;
    std::vector<std::pair<int64_t, int64_t>> owner;  // (sublayer, unit)
    for (int64_t l = is_ffn(s) ? layer + 1 : layer; l < num_layers_; ++l) {
      for (int64_t h = 0; h < num_heads_; ++h) {
        candidate_scores.push_back(heads[l][h].item<double>());
        candidate_flops.push_back(f_head_);
        owner.emplace_back(2 * l, h);
      }
    }
    for (int64_t l = layer; l < num_layers_; ++l) {
      const double* row = neurons[l].data_ptr<double>();
      for (int64_t j = 0; j < num_neurons_; ++j) {
        candidate_scores.push_back(row[j]);
        candidate_flops.push_back(f_neuron_);
        owner.emplace_back(2 * l + 1, j);
      }
    }
    const std::vector<bool> chosen =
        select_units(candidate_scores, candidate_flops, budget_, options_.mode);
    kept_per_sublayer_.assign(2 * num_layers_, 0);
    for (size_t i = 0; i < chosen.size(); ++i) {
      if (chosen[i]) ++kept_per_sublayer_[owner[i].first];
    }
    if (options_.oneshot) {
      oneshot_keep_.assign(2 * num_layers_, {});
      for (int64_t t = 0; t < 2 * num_layers_; ++t) {
        oneshot_keep_[t].assign(model_.sublayer(t).num_units(), false);
      }
      for (size_t i = 0; i < chosen.size(); ++i) {
        oneshot_keep_[owner[i].first][owner[i].second] = chosen[i];
      }
      return oneshot_keep_[s];
    }
    std::vector<bool> keep(model_.sublayer(s).num_units(), false);
    for (size_t i = 0; i < chosen.size(); ++i) {
      if (owner[i].first == s) keep[owner[i].second] = chosen[i];
    }
    return keep;
  }

  EncoderModel& model_;
  const std::vector<Batch>& batches_;
  KpruneOptions options_;
  std::vector<KpruneStep>* steps_;
  FrozenParameters frozen_;
  std::vector<StreamEntry> stream_;
  std::vector<std::vector<bool>> oneshot_keep_;
  std::vector<int64_t> kept_per_sublayer_;  // of the last selection, [2L]
  bool student_is_teacher_ = true;          // until a unit is removed
  // Of the last measurement, per sublayer: mean_r W[r, c]² [columns]; Σ_tokens mean_d z² of the
  // LayerNorm input z (a scalar).
  std::vector<torch::Tensor> weight_norms_, pre_ln_square_;
  int64_t num_layers_ = 0, num_heads_ = 0, head_dim_ = 0, num_neurons_ = 0;
  int64_t num_samples_ = 0, num_tokens_ = 0;
  double f_head_ = 0, f_neuron_ = 0, flops_before_ = 0;
  double budget_ = 0;  // remaining GFLOPs (REF: a float32 value from step 1 on)
  PruneReport report_;
};

class KprunePruner : public Pruner {
 public:
  PruneReport prune(EncoderModel& model, const PruneInput& input) override {
    KpruneOptions options = KpruneOptions::from_params(input.params);
    options.flops_reduction = input.flops_reduction;
    options.flops_seq_len = input.flops_seq_len;
    options.head_kind = input.head_kind;
    return run_kprune(model, *input.sample_batches, options);
  }
};

}  // namespace

PruneReport run_kprune(EncoderModel& model, const std::vector<Batch>& batches,
                       const KpruneOptions& options, std::vector<KpruneStep>* steps) {
  if (batches.empty()) fail("kprune: the sample set is empty");
  if (model.config().head_kind != options.head_kind) {
    fail("kprune: the model's head is {} but the task needs {}",
         to_string(model.config().head_kind), to_string(options.head_kind));
  }
  return KpruneRun(model, batches, options, steps).run();
}

PrunerInfo kprune_pruner_info() {
  return {"kprune",
          "K-prune (Park et al., ICLR 2024): iterative knowledge measurement, KPMS, KPWT",
          {{"lam_pred", "1", "weight of predictive knowledge (KL to the teacher)"},
           {"lam_rep", "0.00025",
            "weight of representational knowledge (weighting=normalized: its share, default 1)"},
           {"mu", "64", "head score multiplier (d_h makes it the sum over the head's columns)"},
           {"T", "2", "softmax temperature of the predictive loss"},
           {"tuning", "true", "KPWT least-squares re-weighting of each pruned sublayer"},
           {"oneshot", "false", "measure once, one global selection, then KPWT bottom-up"},
           {"mode", "clean", "ref: the official code's semantics and quirks; clean: fixed"},
           {"weighting", "paper",
            "paper: the paper's scores; normalized: representational knowledge relative to the "
            "LayerNorm input it feeds, each term divided by its sum over the candidate units "
            "(lam_pred and lam_rep become shares; scale-free across model sizes)"},
           {"chunk_tokens", "1024",
            "padded positions per forward+backward in measurement (bounds memory; the result "
            "does not depend on it)"}},
          false,
          [] { return std::make_unique<KprunePruner>(); }};
}

}  // namespace kprune
