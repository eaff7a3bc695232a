#pragma once
// DynaBERT's distillation losses (retraining-baselines.md 1.5-1.6).
#include <torch/torch.h>

#include <vector>

#include "framework/model/config.h"
#include "framework/model/encoder.h"

namespace kprune {

// SCE(s, t) = mean over the batch of -sum_c softmax(t)_c log_softmax(s)_c (temperature 1).
// student/teacher logits [B, C]; computed in at least fp32.
torch::Tensor soft_cross_entropy(const torch::Tensor& student, const torch::Tensor& teacher);

// Sum over k of MSE(student[k], teacher[index[k]]), each the mean over ALL elements
// (batch x seq x d, padded positions included, as the reference). `index` has one entry per
// student hidden state.
torch::Tensor hidden_state_loss(const std::vector<torch::Tensor>& student,
                                const std::vector<torch::Tensor>& teacher,
                                const std::vector<int64_t>& index);

// The hidden-state pairs of a depth sub-network: [k_0, ..., k_{L'-1}, L] for kept layers k
// of an L-layer teacher (student state 0 is the embedding output, state j the output of its
// j-th kept layer).
std::vector<int64_t> hidden_state_index(const std::vector<int64_t>& kept_layers,
                                        int64_t num_layers);

// What the logit term of the distillation loss is for a regression head.
enum class RegressionLogitLoss {
  none,  // REF quirk D2: hidden states only
  mse,   // CLEAN: MSE(z_S, z_T)
};

// λ1 · logit term + λ2 · hidden-state term. The logit term is SCE for classification and, for
// regression, `regression` (none or MSE).
torch::Tensor distillation_loss(const ModelOutput& student, const ModelOutput& teacher,
                                const std::vector<int64_t>& index, HeadKind kind,
                                RegressionLogitLoss regression, double lambda_logits,
                                double lambda_hidden);

}  // namespace kprune
