#pragma once
// Sub-networks of an encoder that keep some of its layers and, per kept layer, its LEADING heads
// and neurons: DynaBERT's width/depth multipliers (retraining-baselines.md 1.4). The model runs
// them as slices of its own weights (ForwardOptions::subnetwork, so gradients land in the shared
// tensors) or copies them into a smaller ordinary model (EncoderModel::extract).
#include <cstdint>
#include <string>
#include <vector>

#include "framework/model/config.h"

namespace kprune {

// An exact non-negative rational, so that multipliers like 0.75 round as Python's exact
// arithmetic does (the reference uses floats; identical for the multipliers it trains).
struct Multiplier {
  int64_t numerator = 1;
  int64_t denominator = 1;

  double value() const { return static_cast<double>(numerator) / static_cast<double>(denominator); }
  // "0.75", "1", "3/4"; anything else (negative, zero denominator, garbage) is a kprune::Error
  // naming `what`.
  static Multiplier parse(const std::string& text, const std::string& what);
  std::string text() const;  // the shortest decimal when it terminates, else "p/q"
};

// Python's round() of numerator / denominator (>= 0): halves go to the even neighbour.
int64_t round_half_even(int64_t numerator, int64_t denominator);

// Kept heads H' = round(H m_w), neurons F' = max(1, floor(H' d_f / H)) (the neuron count follows
// the ROUNDED head fraction). H' = 0 is a kprune::Error (the reference crashes there).
int64_t width_heads(int64_t num_heads, Multiplier width);
int64_t width_neurons(int64_t num_heads, int64_t intermediate_size, Multiplier width);
// L' = round(m_d L); kept layers k_i = floor(i / m_d), i = 0 .. L'-1 (LayerDrop's "every other"
// rule). L' = 0 is a kprune::Error.
std::vector<int64_t> depth_layers(int64_t num_layers, Multiplier depth);

struct Subnetwork {
  std::vector<int64_t> layers;   // kept layer indices, ascending
  std::vector<int64_t> heads;    // per ORIGINAL layer: the leading heads that run
  std::vector<int64_t> neurons;  // per original layer: the leading neurons that run

  // Every layer, every unit of `config` (the full network).
  static Subnetwork full(const EncoderConfig& config);
  // DynaBERT's (m_w, m_d) sub-network of an unpruned `config`.
  static Subnetwork dynabert(const EncoderConfig& config, Multiplier width, Multiplier depth);
  // Throws unless the counts fit `config` (1 <= heads, neurons <= the layer's units; layers
  // distinct, ascending and in range).
  void validate(const EncoderConfig& config) const;
};

// FLOPs of algorithms.md 2.1 of the kept layers' kept units.
double subnetwork_flops(const EncoderConfig& config, const Subnetwork& subnetwork, double seq_len);

}  // namespace kprune
