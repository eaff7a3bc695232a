#include "framework/model/sublayer.h"

#include <algorithm>
#include <cmath>

#include "framework/model/shape.h"
#include "framework/util/error.h"

namespace kprune {
namespace {

// Replaces a parameter's data (possibly with a new shape) while keeping the registered
// tensor object, so named_parameters(), optimizers and holders all see the change.
void replace_data(torch::Tensor& parameter, const torch::Tensor& data) {
  torch::NoGradGuard no_grad;
  parameter.set_data(data.detach().to(parameter.options()).contiguous());
  parameter.mutable_grad() = torch::Tensor();
}

}  // namespace

std::string to_string(SublayerKind kind) {
  return kind == SublayerKind::attention ? "attention" : "feed_forward";
}

Sublayer::Sublayer(const SublayerOptions& options) : options_(options) {
  const int64_t d = options.hidden_size;
  const int64_t features = num_features();
  if (options.kind == SublayerKind::attention) {
    in_weight_ = register_parameter("in_weight", torch::zeros({3, features, d}));
    in_bias_ = register_parameter("in_bias", torch::zeros({3, features}));
  } else {
    if (options.unit_width != 1) fail("an FFN sublayer has unit width 1");
    in_weight_ = register_parameter("in_weight", torch::zeros({features, d}));
    in_bias_ = register_parameter("in_bias", torch::zeros({features}));
  }
  out_weight_ = register_parameter("out_weight", torch::zeros({d, features}));
  out_bias_ = register_parameter("out_bias", torch::zeros({is_empty() ? 0 : d}));
  norm_weight_ = register_parameter("norm_weight", torch::ones({d}));
  norm_bias_ = register_parameter("norm_bias", torch::zeros({d}));
}

torch::Tensor Sublayer::unit_columns(const torch::Tensor& units) const {
  const int64_t width = unit_width();
  const torch::Tensor index = units.to(out_weight_.device(), torch::kInt64);
  return (index.unsqueeze(1) * width + torch::arange(width, index.options()).unsqueeze(0))
      .reshape(-1);
}

torch::Tensor Sublayer::compute_features(const torch::Tensor& x,
                                         const torch::Tensor& attention_bias,
                                         const torch::Tensor& in_weight,
                                         const torch::Tensor& in_bias, int64_t count,
                                         const torch::Tensor& pre_activation_mask) const {
  if (count == 0) return x.new_zeros({x.size(0), x.size(1), 0});
  if (options_.kind == SublayerKind::feed_forward) {
    torch::Tensor pre_activation = torch::linear(x, in_weight, in_bias);  // [B, T, F]
    if (pre_activation_mask.defined()) {
      pre_activation = pre_activation * feature_factor(pre_activation_mask, count, 1, x.size(0),
                                                       "pre-activation mask");
    }
    return torch::gelu(pre_activation);  // exact erf GELU as HF
  }
  if (pre_activation_mask.defined()) fail("a pre-activation mask applies to FFN sublayers only");
  const int64_t batch = x.size(0), tokens = x.size(1), width = unit_width();
  // One fused matmul for Q, K and V of the heads: [B, T, 3 * H * d_h] -> [3, B, H, T, d_h].
  torch::Tensor qkv =
      torch::linear(x, in_weight.reshape({3 * count * width, -1}), in_bias.reshape({-1}))
          .view({batch, tokens, 3, count, width})
          .permute({2, 0, 3, 1, 4});
  torch::Tensor scores = torch::matmul(qkv[0], qkv[1].transpose(-1, -2));  // [B, H, T, T]
  scores = scores / std::sqrt(static_cast<double>(width)) + attention_bias;
  torch::Tensor probs = torch::softmax(scores, -1);
  if (options_.attention_dropout > 0) {
    probs = torch::dropout(probs, options_.attention_dropout, is_training());
  }
  // [B, H, T, d_h] -> [B, T, H * d_h]
  return torch::matmul(probs, qkv[2]).transpose(1, 2).reshape({batch, tokens, count * width});
}

torch::Tensor Sublayer::features(const torch::Tensor& x, const torch::Tensor& attention_bias,
                                 const torch::Tensor& units) const {
  if (!units.defined()) {
    return compute_features(x, attention_bias, in_weight_, in_bias_, num_units(), {});
  }
  const torch::Tensor columns = unit_columns(units);
  const int64_t feature_dim = options_.kind == SublayerKind::attention ? 1 : 0;
  return compute_features(x, attention_bias, in_weight_.index_select(feature_dim, columns),
                          in_bias_.index_select(feature_dim, columns), units.numel(), {});
}

torch::Tensor Sublayer::forward(const torch::Tensor& x, const torch::Tensor& attention_bias,
                                const torch::Tensor& unit_mask, SublayerProbe* probe) const {
  SublayerForwardOptions options;
  options.unit_mask = unit_mask;
  options.probe = probe;
  return forward_with(x, attention_bias, options);
}

torch::Tensor Sublayer::forward_with(const torch::Tensor& x, const torch::Tensor& attention_bias,
                                     const SublayerForwardOptions& options) const {
  const int64_t d = hidden_size();
  if (is_empty()) {
    if (options.probe != nullptr) {
      options.probe->input = x;
      options.probe->features = x.new_zeros({x.size(0), x.size(1), 0});
      options.probe->pre_ln = x;
    }
    return torch::layer_norm(x, {d}, norm_weight_, norm_bias_, options_.layer_norm_eps);
  }
  int64_t count = num_units();
  torch::Tensor in_weight = in_weight_, in_bias = in_bias_, out_weight = out_weight_;
  if (options.leading_units >= 0) {
    if (options.leading_units < 1 || options.leading_units > num_units()) {
      fail("{} sublayer: {} leading units asked of {}", to_string(kind()), options.leading_units,
           num_units());
    }
    count = options.leading_units;
    const int64_t columns = count * unit_width();
    const int64_t feature_dim = kind() == SublayerKind::attention ? 1 : 0;
    in_weight = in_weight_.narrow(feature_dim, 0, columns);
    in_bias = in_bias_.narrow(feature_dim, 0, columns);
    out_weight = out_weight_.narrow(1, 0, columns);
  }
  torch::Tensor feats =  // [B, T, count * width]
      compute_features(x, attention_bias, in_weight, in_bias, count, options.pre_activation_mask);
  if (options.unit_mask.defined()) {
    feats = feats * feature_factor(options.unit_mask, count, unit_width(), x.size(0), "unit mask");
  }
  return project_with(x, feats, out_weight, options.probe);
}

torch::Tensor Sublayer::feature_factor(const torch::Tensor& mask, int64_t units, int64_t width,
                                       int64_t batch, const std::string& what) const {
  const bool per_example = mask.dim() == 2;
  if (mask.dim() > 2 || (per_example && mask.size(0) != batch)) {
    fail("{} sublayer: {} has shape {}, expected [{}], [{}] or per example [{}, {}]",
         to_string(kind()), what, shape_string(mask.sizes()), units, units * width, batch, units);
  }
  const int64_t size = per_example ? mask.size(1) : mask.numel();
  torch::Tensor factor;
  if (size == units * width) {
    factor = mask;
  } else if (size == units) {
    factor = mask.repeat_interleave(width, -1);
  } else {
    fail("{} sublayer: {} has {} entries per example, expected {} (units) or {} (feature columns)",
         to_string(kind()), what, size, units, units * width);
  }
  return per_example ? factor.reshape({batch, 1, units * width}) : factor.reshape({-1});
}

torch::Tensor Sublayer::project(const torch::Tensor& x, const torch::Tensor& features,
                                const torch::Tensor& columns, SublayerProbe* probe) const {
  const int64_t width = columns.defined() ? columns.numel() : num_features();
  if (features.size(-1) != width) {
    fail("{} sublayer: features have {} columns, expected {}", to_string(kind()), features.size(-1),
         width);
  }
  return project_with(
      x, features, columns.defined() ? out_weight_.index_select(1, columns) : out_weight_, probe);
}

torch::Tensor Sublayer::project_with(const torch::Tensor& x, const torch::Tensor& features,
                                     const torch::Tensor& weight, SublayerProbe* probe) const {
  torch::Tensor out =
      is_empty() ? torch::zeros_like(x) : torch::linear(features, weight, out_bias_);
  if (options_.output_dropout > 0) {
    out = torch::dropout(out, options_.output_dropout, is_training());
  }
  torch::Tensor pre_ln = x + out;
  if (probe != nullptr) {
    probe->input = x;
    probe->features = features;
    probe->pre_ln = pre_ln;
  }
  return torch::layer_norm(pre_ln, {hidden_size()}, norm_weight_, norm_bias_,
                           options_.layer_norm_eps);
}

std::shared_ptr<Sublayer> Sublayer::clone() const {
  auto copy = std::make_shared<Sublayer>(options_);
  copy->to(out_weight_.device(), out_weight_.scalar_type());
  torch::NoGradGuard no_grad;
  auto source = named_parameters();
  for (auto& item : copy->named_parameters()) item.value().copy_(source[item.key()]);
  copy->train(is_training());
  return copy;
}

void Sublayer::shrink(const std::vector<int64_t>& keep_units, const torch::Tensor& new_out_weight) {
  for (size_t i = 0; i < keep_units.size(); ++i) {
    if (keep_units[i] < 0 || keep_units[i] >= num_units() ||
        (i > 0 && keep_units[i] <= keep_units[i - 1])) {
      fail(
          "{} sublayer shrink: kept units must be sorted, distinct and in [0, {}), found {} at "
          "position {}",
          to_string(kind()), num_units(), keep_units[i], i);
    }
  }
  const int64_t kept = static_cast<int64_t>(keep_units.size());
  const int64_t width = unit_width();
  const torch::Tensor columns = unit_columns(torch::tensor(keep_units, torch::kInt64));

  torch::NoGradGuard no_grad;
  const int64_t feature_dim = kind() == SublayerKind::attention ? 1 : 0;
  replace_data(in_weight_, in_weight_.index_select(feature_dim, columns));
  replace_data(in_bias_, in_bias_.index_select(feature_dim, columns));
  if (new_out_weight.defined()) {
    if (new_out_weight.dim() != 2 || new_out_weight.size(0) != hidden_size() ||
        new_out_weight.size(1) != kept * width) {
      fail("{} sublayer shrink: new output weight has shape {}, expected [{}, {}]",
           to_string(kind()), shape_string(new_out_weight.sizes()), hidden_size(), kept * width);
    }
    replace_data(out_weight_, new_out_weight);
  } else {
    replace_data(out_weight_, out_weight_.index_select(1, columns));
  }
  options_.num_units = kept;
  if (kept == 0) replace_data(out_bias_, out_bias_.new_zeros({0}));
}

void Sublayer::permute_units(const std::vector<int64_t>& order) {
  std::vector<int64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (sorted.size() != static_cast<size_t>(num_units()) || sorted[i] != static_cast<int64_t>(i)) {
      fail("{} sublayer: the unit order must be a permutation of [0, {}) ({} entries given)",
           to_string(kind()), num_units(), order.size());
    }
  }
  const torch::Tensor columns = unit_columns(torch::tensor(order, torch::kInt64));
  torch::NoGradGuard no_grad;
  const int64_t feature_dim = kind() == SublayerKind::attention ? 1 : 0;
  replace_data(in_weight_, in_weight_.index_select(feature_dim, columns));
  replace_data(in_bias_, in_bias_.index_select(feature_dim, columns));
  replace_data(out_weight_, out_weight_.index_select(1, columns));
}

void Sublayer::set_out_weight(const torch::Tensor& weight) {
  if (!weight.sizes().equals(out_weight_.sizes())) {
    fail("{} sublayer: new output weight has shape {}, expected {}", to_string(kind()),
         shape_string(weight.sizes()), shape_string(out_weight_.sizes()));
  }
  replace_data(out_weight_, weight);
}

void Sublayer::set_out_bias(const torch::Tensor& bias) {
  if (!bias.sizes().equals(out_bias_.sizes())) {
    fail("{} sublayer: new output bias has shape {}, expected {}", to_string(kind()),
         shape_string(bias.sizes()), shape_string(out_bias_.sizes()));
  }
  replace_data(out_bias_, bias);
}

torch::Tensor Sublayer::qkv(int64_t which, bool bias) const {
  if (kind() != SublayerKind::attention) {
    fail("query/key/value weights exist only in attention sublayers");
  }
  return bias ? in_bias_[which] : in_weight_[which];
}

torch::Tensor Sublayer::query_weight() const { return qkv(0, false); }
torch::Tensor Sublayer::query_bias() const { return qkv(0, true); }
torch::Tensor Sublayer::key_weight() const { return qkv(1, false); }
torch::Tensor Sublayer::key_bias() const { return qkv(1, true); }
torch::Tensor Sublayer::value_weight() const { return qkv(2, false); }
torch::Tensor Sublayer::value_bias() const { return qkv(2, true); }

torch::Tensor Sublayer::in_weight() const {
  if (kind() != SublayerKind::feed_forward) fail("W_1 exists only in FFN sublayers");
  return in_weight_;
}

torch::Tensor Sublayer::in_bias() const {
  if (kind() != SublayerKind::feed_forward) fail("b_1 exists only in FFN sublayers");
  return in_bias_;
}

}  // namespace kprune
