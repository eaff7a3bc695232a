#pragma once
// Cost accounting of algorithms.md 2.1 (K-prune FLOPs) and 2.2 (Kwon et al. MACs = FLOPs / 2).
// Only the encoder's prunable matrix products count; `seq_len` is the task's (fractional)
// average length.
#include <string>
#include <vector>

#include "framework/model/config.h"

namespace kprune {

// 8 d d_h l + 4 d_h l^2
double head_flops(const EncoderConfig& config, double seq_len);
// 4 l d
double neuron_flops(const EncoderConfig& config, double seq_len);
// sum over layers of heads_per_layer[i] * head_flops + neurons_per_layer[i] * neuron_flops
double model_flops(const EncoderConfig& config, double seq_len);
// Same model with every head and neuron (the unpruned reference).
double full_model_flops(const EncoderConfig& config, double seq_len);

double head_macs(const EncoderConfig& config, double seq_len);
double neuron_macs(const EncoderConfig& config, double seq_len);
double model_macs(const EncoderConfig& config, double seq_len);

// The reference's hard-coded FLOPs sequence length of a task (average tokenized dev length;
// 170 for SQuAD): sst2, mrpc, stsb, qqp, qnli, mnli, rte, cola, squad (also squad_v2).
// Case, '-' and '_' are ignored ("SST-2" works). Throws naming the known tasks.
double task_flops_seq_len(const std::string& task);
// Canonical task names of the table above, in table order.
std::vector<std::string> flops_tasks();

}  // namespace kprune
