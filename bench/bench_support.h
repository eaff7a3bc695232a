#pragma once
// What the benchmarks share: the random BERT-shaped models they time, the shape options, and
// timing a child process (the sweep benchmarks run the real kprune-sweep program).
#include <sys/wait.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "framework/model/config.h"
#include "framework/model/encoder.h"
#include "framework/util/timer.h"

namespace kprune::bench {

// BERT-base by default.
struct ModelShape {
  std::string name = "bert-base";
  int64_t layers = 12, hidden = 768, heads = 12, ffn = 3072;

  void add_options(CLI::App& app) {
    app.add_option("--layers", layers)->capture_default_str();
    app.add_option("--hidden", hidden)->capture_default_str();
    app.add_option("--heads", heads)->capture_default_str();
    app.add_option("--ffn", ffn)->capture_default_str();
  }
};

// A BERT classifier (2 labels) of `shape` with seeded random weights, in eval mode on `device`.
inline std::shared_ptr<EncoderModel> random_bert(const ModelShape& shape, torch::Device device) {
  const nlohmann::json config = {{"model_type", "bert"},
                                 {"vocab_size", 30522},
                                 {"hidden_size", shape.hidden},
                                 {"num_hidden_layers", shape.layers},
                                 {"num_attention_heads", shape.heads},
                                 {"intermediate_size", shape.ffn},
                                 {"max_position_embeddings", 512},
                                 {"type_vocab_size", 2},
                                 {"num_labels", 2},
                                 {"hidden_act", "gelu"}};
  auto model = EncoderModel::random(EncoderConfig::from_json(config, shape.name), 0);
  model->to(device);
  model->eval();
  return model;
}

// Wall seconds of a shell command (output discarded); throws when it fails.
inline double timed_command(const std::string& command) {
  Stopwatch clock;
  const int status = std::system((command + " > /dev/null 2>&1").c_str());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("failed: " + command);
  return clock.seconds();
}

}  // namespace kprune::bench
