#pragma once
// The HF config.json of a randomly initialised encoder, written through the model-family
// registry's key names, so that a new family needs no change here.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace kprune {

struct EncoderShape {
  std::string model_type = "bert";
  int64_t layers = 0, hidden = 0, heads = 0, ffn = 0, max_position = 512;
  std::optional<double> dropout;  // unset: HF's defaults of the family
};

// GELU, learned positions, token types where the family has them; no head fields.
nlohmann::json random_encoder_config(const EncoderShape& shape, int64_t vocab_size);

}  // namespace kprune
