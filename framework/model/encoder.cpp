#include "framework/model/encoder.h"

#include <ATen/CPUGeneratorImpl.h>

#include <limits>

#include "framework/model/family.h"
#include "framework/util/error.h"

namespace kprune {

EncoderModel::EncoderModel(const EncoderConfig& config) : config_(config) {
  config_.validate("encoder config");
  const ModelFamily& family = model_family(config.model_type);
  pre_classifier_tanh_ = family.pre_classifier_tanh;
  has_token_types_ = family.has_token_types && config.type_vocab_size > 0;
  const int64_t d = config.hidden_size;

  word_embeddings_ = register_parameter("word_embeddings", torch::zeros({config.vocab_size, d}));
  position_embeddings_ =
      register_parameter("position_embeddings", torch::zeros({config.max_position_embeddings, d}));
  if (has_token_types_) {
    token_type_embeddings_ =
        register_parameter("token_type_embeddings", torch::zeros({config.type_vocab_size, d}));
  }
  embedding_norm_weight_ = register_parameter("embedding_norm_weight", torch::ones({d}));
  embedding_norm_bias_ = register_parameter("embedding_norm_bias", torch::zeros({d}));

  auto list = register_module("sublayers", torch::nn::ModuleList());
  for (int64_t layer = 0; layer < config.num_layers; ++layer) {
    SublayerOptions attention;
    attention.kind = SublayerKind::attention;
    attention.hidden_size = d;
    attention.unit_width = config.head_dim;
    attention.num_units = config.heads_per_layer[layer];
    attention.layer_norm_eps = config.layer_norm_eps;
    attention.attention_dropout = config.attention_dropout_prob;
    attention.output_dropout = family.attention_output_dropout ? config.hidden_dropout_prob : 0;
    SublayerOptions ffn;
    ffn.kind = SublayerKind::feed_forward;
    ffn.hidden_size = d;
    ffn.unit_width = 1;
    ffn.num_units = config.neurons_per_layer[layer];
    ffn.layer_norm_eps = config.layer_norm_eps;
    ffn.output_dropout = config.hidden_dropout_prob;
    for (const auto& options : {attention, ffn}) {
      sublayers_.push_back(std::make_shared<Sublayer>(options));
      list->push_back(sublayers_.back());
    }
  }

  if (config.head_kind != HeadKind::question_answering) {
    pre_classifier_weight_ = register_parameter("pre_classifier_weight", torch::zeros({d, d}));
    pre_classifier_bias_ = register_parameter("pre_classifier_bias", torch::zeros({d}));
  }
  output_weight_ = register_parameter("output_weight", torch::zeros({config.num_labels, d}));
  output_bias_ = register_parameter("output_bias", torch::zeros({config.num_labels}));
}

std::shared_ptr<EncoderModel> EncoderModel::random(const EncoderConfig& config, uint64_t seed) {
  auto model = std::make_shared<EncoderModel>(config);
  auto generator = at::detail::createCPUGenerator(seed);
  const double std = config.initializer_range;
  torch::NoGradGuard no_grad;
  // named_parameters() has a fixed order, so the draw is deterministic for a seed.
  for (auto& item : model->named_parameters()) {
    const std::string& name = item.key();
    torch::Tensor& tensor = item.value();
    const bool is_norm = name.find("norm_") != std::string::npos;
    const bool is_bias = name.find("bias") != std::string::npos;
    if (is_norm && !is_bias) {
      tensor.fill_(1.0);
    } else if (is_bias) {
      tensor.zero_();
    } else {
      tensor.normal_(0.0, std, generator);
    }
  }
  if (config.pad_token_id >= 0 && config.pad_token_id < config.vocab_size) {
    model->word_embeddings_[config.pad_token_id].zero_();
  }
  return model;
}

torch::Tensor EncoderModel::embed(const Batch& batch) const {
  const torch::Tensor& ids = batch.input_ids;
  if (!ids.defined() || ids.dim() != 2) fail("batch: input_ids must be a [B, T] tensor");
  const int64_t tokens = ids.size(1);
  if (tokens > config_.max_position_embeddings) {
    fail("batch: sequence length {} exceeds max_position_embeddings {}", tokens,
         config_.max_position_embeddings);
  }
  if (ids.numel() > 0) {
    const int64_t lowest = ids.min().item<int64_t>(), highest = ids.max().item<int64_t>();
    if (lowest < 0 || highest >= config_.vocab_size) {
      fail("batch: input_ids hold id {} outside the vocabulary [0, {})",
           lowest < 0 ? lowest : highest, config_.vocab_size);
    }
  }
  torch::Tensor x = torch::embedding(word_embeddings_, ids);  // [B, T, d]
  if (has_token_types_) {
    torch::Tensor types =
        batch.token_type_ids.defined() ? batch.token_type_ids : torch::zeros_like(ids);
    x = x + torch::embedding(token_type_embeddings_, types);
  }
  x = x + position_embeddings_.slice(0, 0, tokens);
  x = torch::layer_norm(x, {config_.hidden_size}, embedding_norm_weight_, embedding_norm_bias_,
                        config_.layer_norm_eps);
  return torch::dropout(x, config_.hidden_dropout_prob, is_training());
}

torch::Tensor EncoderModel::attention_bias(const Batch& batch) const {
  const auto options = torch::TensorOptions().dtype(dtype()).device(device());
  if (!batch.attention_mask.defined()) {
    return torch::zeros({batch.size(), 1, 1, batch.seq_len()}, options);
  }
  // HF: (1 - mask) * lowest finite value of the dtype.
  const double lowest = dtype() == torch::kFloat64 ? std::numeric_limits<double>::lowest()
                                                   : std::numeric_limits<float>::lowest();
  torch::Tensor mask = batch.attention_mask.to(options);
  return ((1.0 - mask) * lowest).view({batch.size(), 1, 1, batch.seq_len()});
}

torch::Tensor EncoderModel::run(int64_t from, int64_t to, torch::Tensor x,
                                const torch::Tensor& bias, const ForwardOptions& options,
                                std::vector<torch::Tensor>* hidden) const {
  if (from < 0 || to > num_sublayers() || from > to) {
    fail("run_sublayers: range [{}, {}) is not within [0, {}]", from, to, num_sublayers());
  }
  for (const auto* masks : {options.unit_masks, options.pre_activation_masks}) {
    if (masks != nullptr && static_cast<int64_t>(masks->size()) != num_sublayers()) {
      fail("forward: {} masks given, expected one per sublayer ({})", masks->size(),
           num_sublayers());
    }
  }
  if (options.probes != nullptr && static_cast<int64_t>(options.probes->size()) < num_sublayers()) {
    options.probes->resize(num_sublayers());
  }
  std::vector<bool> runs(static_cast<size_t>(config_.num_layers), true);
  if (options.subnetwork != nullptr) {
    options.subnetwork->validate(config());
    runs.assign(runs.size(), false);
    for (const int64_t layer : options.subnetwork->layers) runs[static_cast<size_t>(layer)] = true;
  }
  for (int64_t s = from; s < to; ++s) {
    const auto layer = static_cast<size_t>(s / 2);
    if (!runs[layer]) continue;
    SublayerForwardOptions sublayer;
    if (options.unit_masks != nullptr) sublayer.unit_mask = (*options.unit_masks)[s];
    if (options.pre_activation_masks != nullptr && s % 2 == 1) {
      sublayer.pre_activation_mask = (*options.pre_activation_masks)[s];
    }
    if (options.subnetwork != nullptr) {
      sublayer.leading_units =
          s % 2 == 0 ? options.subnetwork->heads[layer] : options.subnetwork->neurons[layer];
    }
    if (options.probes != nullptr) sublayer.probe = &(*options.probes)[s];
    x = sublayers_[s]->forward_with(x, bias, sublayer);
    if (hidden != nullptr && s % 2 == 1) hidden->push_back(x);
  }
  return x;
}

torch::Tensor EncoderModel::run_sublayers(int64_t from, int64_t to, torch::Tensor x,
                                          const torch::Tensor& attention_bias,
                                          const ForwardOptions& options) const {
  return run(from, to, std::move(x), attention_bias, options, nullptr);
}

ModelOutput EncoderModel::head(const torch::Tensor& last_hidden) const {
  ModelOutput output;
  const double dropout = config_.head_dropout();
  if (config_.head_kind == HeadKind::question_answering) {
    torch::Tensor hidden = torch::dropout(last_hidden, dropout, is_training());
    torch::Tensor logits = torch::linear(hidden, output_weight_, output_bias_);  // [B, T, 2]
    output.start_logits = logits.select(-1, 0);
    output.end_logits = logits.select(-1, 1);
    return output;
  }
  torch::Tensor cls = last_hidden.select(1, 0);  // [B, d]
  torch::Tensor pooled = torch::linear(cls, pre_classifier_weight_, pre_classifier_bias_);
  pooled = pre_classifier_tanh_ ? torch::tanh(pooled) : torch::relu(pooled);
  pooled = torch::dropout(pooled, dropout, is_training());
  output.logits = torch::linear(pooled, output_weight_, output_bias_);
  return output;
}

ModelOutput EncoderModel::forward(const Batch& batch, const ForwardOptions& options) const {
  torch::Tensor bias = attention_bias(batch);
  torch::Tensor x = embed(batch);
  std::vector<torch::Tensor> hidden;
  if (options.output_hidden_states) hidden.push_back(x);
  x = run(0, num_sublayers(), x, bias, options, options.output_hidden_states ? &hidden : nullptr);
  ModelOutput output = head(x);
  output.hidden_states = std::move(hidden);
  return output;
}

Sublayer& EncoderModel::sublayer(int64_t s) {
  if (s < 0 || s >= num_sublayers()) {
    fail("sublayer index {} is outside [0, {})", s, num_sublayers());
  }
  return *sublayers_[s];
}

const Sublayer& EncoderModel::sublayer(int64_t s) const {
  return const_cast<EncoderModel*>(this)->sublayer(s);
}

const EncoderConfig& EncoderModel::config() const {
  for (int64_t layer = 0; layer < config_.num_layers; ++layer) {
    config_.heads_per_layer[layer] = sublayers_[2 * layer]->num_units();
    config_.neurons_per_layer[layer] = sublayers_[2 * layer + 1]->num_units();
  }
  return config_;
}

int64_t EncoderModel::num_parameters() const {
  int64_t count = 0;
  for (const auto& parameter : parameters()) count += parameter.numel();
  return count;
}

torch::Tensor EncoderModel::parameter(const std::string& name) const {
  const auto parameters = named_parameters(/*recurse=*/false);
  const torch::Tensor* found = parameters.find(name);
  if (found == nullptr) fail("encoder: no parameter named '{}'", name);
  return *found;
}

std::shared_ptr<EncoderModel> EncoderModel::clone() const {
  auto copy = std::make_shared<EncoderModel>(config());
  copy->to(device(), dtype());
  torch::NoGradGuard no_grad;
  auto source = named_parameters();
  for (auto& item : copy->named_parameters()) {
    item.value().copy_(source[item.key()]);
  }
  copy->train(is_training());
  return copy;
}

std::shared_ptr<EncoderModel> EncoderModel::extract(const Subnetwork& subnetwork) const {
  subnetwork.validate(config());
  EncoderConfig small = config();
  small.num_layers = static_cast<int64_t>(subnetwork.layers.size());
  small.heads_per_layer.clear();
  small.neurons_per_layer.clear();
  for (const int64_t layer : subnetwork.layers) {
    small.heads_per_layer.push_back(subnetwork.heads[static_cast<size_t>(layer)]);
    small.neurons_per_layer.push_back(subnetwork.neurons[static_cast<size_t>(layer)]);
  }
  auto copy = std::make_shared<EncoderModel>(small);
  copy->to(device(), dtype());
  torch::NoGradGuard no_grad;
  const auto source = named_parameters(/*recurse=*/false);
  for (auto& item : copy->named_parameters(/*recurse=*/false)) {
    item.value().copy_(source[item.key()]);
  }
  for (size_t j = 0; j < subnetwork.layers.size(); ++j) {
    for (const int64_t part : {0, 1}) {
      const Sublayer& from = *sublayers_[static_cast<size_t>(2 * subnetwork.layers[j] + part)];
      Sublayer& to = *copy->sublayers_[2 * j + static_cast<size_t>(part)];
      const auto source_parameters = from.named_parameters();
      for (auto& item : to.named_parameters()) {
        const torch::Tensor& full = source_parameters[item.key()];
        torch::Tensor slice = full;
        // Feature-indexed dimensions keep their leading entries: in_weight/in_bias dim 1
        // (attention: [3, H d_h, ...]) or 0 (FFN), out_weight dim 1.
        for (int64_t dim = 0; dim < full.dim(); ++dim) {
          if (item.value().size(dim) != full.size(dim)) {
            slice = slice.narrow(dim, 0, item.value().size(dim));
          }
        }
        item.value().copy_(slice);
      }
    }
  }
  copy->train(is_training());
  return copy;
}

}  // namespace kprune
