#include "framework/model/subnetwork.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <numeric>

#include "framework/model/flops.h"
#include "framework/util/error.h"

namespace kprune {
namespace {

Multiplier reduced(int64_t numerator, int64_t denominator) {
  const int64_t divisor = std::gcd(numerator, denominator);
  return divisor == 0 ? Multiplier{0, 1} : Multiplier{numerator / divisor, denominator / divisor};
}

bool all_digits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(),
                                      [](unsigned char c) { return std::isdigit(c) != 0; });
}

// Digits only, short enough not to overflow the scaled arithmetic below.
int64_t parse_digits(const std::string& text, const std::string& whole, const std::string& what) {
  if (!all_digits(text) || text.size() > 9) {
    fail(
        "{}: '{}' is not a multiplier (expected a decimal such as 0.75, or a fraction such as 3/4)",
        what, whole);
  }
  return std::stoll(text);
}

}  // namespace

Multiplier Multiplier::parse(const std::string& text, const std::string& what) {
  const size_t slash = text.find('/');
  if (slash != std::string::npos) {
    const int64_t numerator = parse_digits(text.substr(0, slash), text, what);
    const int64_t denominator = parse_digits(text.substr(slash + 1), text, what);
    if (denominator == 0) fail("{}: '{}' divides by zero", what, text);
    return reduced(numerator, denominator);
  }
  const size_t dot = text.find('.');
  if (dot == std::string::npos) return {parse_digits(text, text, what), 1};
  const std::string whole = text.substr(0, dot), fraction = text.substr(dot + 1);
  const int64_t fraction_value = parse_digits(fraction, text, what);
  int64_t scale = 1;
  for (size_t digit = 0; digit < fraction.size(); ++digit) scale *= 10;
  const int64_t integer = whole.empty() ? 0 : parse_digits(whole, text, what);
  return reduced(integer * scale + fraction_value, scale);
}

std::string Multiplier::text() const {
  int64_t denominator_rest = denominator;
  while (denominator_rest % 2 == 0) denominator_rest /= 2;
  while (denominator_rest % 5 == 0) denominator_rest /= 5;
  if (denominator_rest != 1) return fmt::format("{}/{}", numerator, denominator);
  return fmt::format("{}", value());  // a terminating decimal prints exactly and shortest
}

int64_t round_half_even(int64_t numerator, int64_t denominator) {
  if (numerator < 0 || denominator <= 0) {
    fail("round_half_even: {}/{} is not a non-negative fraction", numerator, denominator);
  }
  const int64_t quotient = numerator / denominator;
  const int64_t twice_remainder = 2 * (numerator % denominator);
  if (twice_remainder > denominator) return quotient + 1;
  if (twice_remainder < denominator) return quotient;
  return quotient % 2 == 0 ? quotient : quotient + 1;
}

int64_t width_heads(int64_t num_heads, Multiplier width) {
  const int64_t heads = round_half_even(num_heads * width.numerator, width.denominator);
  if (heads < 1) {
    fail(
        "width multiplier {} keeps round({} x {}) = 0 of {} heads: no head is left (a width needs "
        "{} x m_w > 0.5)",
        width.text(), num_heads, width.text(), num_heads, num_heads);
  }
  if (heads > num_heads) {
    fail("width multiplier {} is above 1 ({} of {} heads)", width.text(), heads, num_heads);
  }
  return heads;
}

int64_t width_neurons(int64_t num_heads, int64_t intermediate_size, Multiplier width) {
  return std::max<int64_t>(1, width_heads(num_heads, width) * intermediate_size / num_heads);
}

std::vector<int64_t> depth_layers(int64_t num_layers, Multiplier depth) {
  const int64_t kept = round_half_even(num_layers * depth.numerator, depth.denominator);
  if (kept < 1) {
    fail("depth multiplier {} keeps round({} x {}) = 0 of {} layers", depth.text(), num_layers,
         depth.text(), num_layers);
  }
  if (kept > num_layers) {
    fail("depth multiplier {} is above 1 ({} of {} layers)", depth.text(), kept, num_layers);
  }
  std::vector<int64_t> layers;
  // k_i = floor(i / m_d) = floor(i q / p), in exact integers.
  for (int64_t i = 0; i < kept; ++i) layers.push_back(i * depth.denominator / depth.numerator);
  return layers;
}

Subnetwork Subnetwork::full(const EncoderConfig& config) {
  Subnetwork out;
  out.layers.resize(static_cast<size_t>(config.num_layers));
  std::iota(out.layers.begin(), out.layers.end(), 0);
  out.heads = config.heads_per_layer;
  out.neurons = config.neurons_per_layer;
  return out;
}

Subnetwork Subnetwork::dynabert(const EncoderConfig& config, Multiplier width, Multiplier depth) {
  if (config.is_pruned()) {
    fail("DynaBERT sub-networks are defined on an unpruned model (this one has per-layer counts)");
  }
  Subnetwork out;
  out.layers = depth_layers(config.num_layers, depth);
  const auto layers = static_cast<size_t>(config.num_layers);
  out.heads.assign(layers, width_heads(config.num_heads, width));
  out.neurons.assign(layers, width_neurons(config.num_heads, config.intermediate_size, width));
  return out;
}

void Subnetwork::validate(const EncoderConfig& config) const {
  const auto layer_count = static_cast<size_t>(config.num_layers);
  if (heads.size() != layer_count || neurons.size() != layer_count) {
    fail("sub-network: {} head and {} neuron counts for a model of {} layers", heads.size(),
         neurons.size(), config.num_layers);
  }
  if (layers.empty()) fail("sub-network: keeps no layer");
  for (size_t i = 0; i < layers.size(); ++i) {
    if (layers[i] < 0 || layers[i] >= config.num_layers || (i > 0 && layers[i] <= layers[i - 1])) {
      fail("sub-network: kept layers must be ascending, distinct and in [0, {}), found {} at {}",
           config.num_layers, layers[i], i);
    }
  }
  for (size_t l = 0; l < layer_count; ++l) {
    if (heads[l] < 1 || heads[l] > config.heads_per_layer[l] || neurons[l] < 1 ||
        neurons[l] > config.neurons_per_layer[l]) {
      fail("sub-network: layer {} runs {} heads and {} neurons, expected 1..{} and 1..{}", l,
           heads[l], neurons[l], config.heads_per_layer[l], config.neurons_per_layer[l]);
    }
  }
}

double subnetwork_flops(const EncoderConfig& config, const Subnetwork& subnetwork, double seq_len) {
  subnetwork.validate(config);
  double heads = 0, neurons = 0;
  for (const int64_t layer : subnetwork.layers) {
    heads += static_cast<double>(subnetwork.heads[static_cast<size_t>(layer)]);
    neurons += static_cast<double>(subnetwork.neurons[static_cast<size_t>(layer)]);
  }
  return heads * head_flops(config, seq_len) + neurons * neuron_flops(config, seq_len);
}

}  // namespace kprune
