#include "framework/model/flops.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cctype>
#include <utility>

#include "framework/util/error.h"

namespace kprune {
namespace {

const std::vector<std::pair<std::string, double>>& seq_len_table() {
  static const std::vector<std::pair<std::string, double>> table = {
      {"sst2", 25.16}, {"mrpc", 53.24}, {"stsb", 31.47}, {"qqp", 30.55}, {"qnli", 50.97},
      {"mnli", 39.05}, {"rte", 64.59},  {"cola", 11.67}, {"squad", 170}};
  return table;
}

}  // namespace

double head_flops(const EncoderConfig& config, double seq_len) {
  const double d = static_cast<double>(config.hidden_size);
  const double dh = static_cast<double>(config.head_dim);
  return 8.0 * d * dh * seq_len + 4.0 * dh * seq_len * seq_len;
}

double neuron_flops(const EncoderConfig& config, double seq_len) {
  return 4.0 * seq_len * static_cast<double>(config.hidden_size);
}

double model_flops(const EncoderConfig& config, double seq_len) {
  double heads = 0, neurons = 0;
  for (int64_t layer = 0; layer < config.num_layers; ++layer) {
    heads += static_cast<double>(config.heads_per_layer.at(layer));
    neurons += static_cast<double>(config.neurons_per_layer.at(layer));
  }
  return heads * head_flops(config, seq_len) + neurons * neuron_flops(config, seq_len);
}

double full_model_flops(const EncoderConfig& config, double seq_len) {
  EncoderConfig full = config;
  full.reset_unit_counts();
  return model_flops(full, seq_len);
}

double head_macs(const EncoderConfig& config, double seq_len) {
  return head_flops(config, seq_len) / 2;
}
double neuron_macs(const EncoderConfig& config, double seq_len) {
  return neuron_flops(config, seq_len) / 2;
}
double model_macs(const EncoderConfig& config, double seq_len) {
  return model_flops(config, seq_len) / 2;
}

double task_flops_seq_len(const std::string& task) {
  std::string key;
  for (char c : task) {
    if (c != '-' && c != '_') key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (key == "squadv2" || key == "squad2" || key == "squadv1" || key == "squad1") key = "squad";
  if (key == "mnlimm" || key == "mnlim") key = "mnli";
  for (const auto& [name, seq_len] : seq_len_table()) {
    if (name == key) return seq_len;
  }
  fail("no FLOPs sequence length for task '{}': known tasks are {}", task,
       fmt::join(flops_tasks(), ", "));
}

std::vector<std::string> flops_tasks() {
  std::vector<std::string> names;
  for (const auto& entry : seq_len_table()) names.push_back(entry.first);
  return names;
}

}  // namespace kprune
