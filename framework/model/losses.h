#pragma once
// Supervised training losses of the three heads, as HF computes them.
#include <torch/torch.h>

#include "framework/model/batch.h"
#include "framework/model/config.h"
#include "framework/model/encoder.h"

namespace kprune {

// classification: cross-entropy with int64 labels [B]; regression: MSE between logits [B, 1]
// squeezed to [B] and float labels [B]; question answering: (CE(start) + CE(end)) / 2 with
// positions clamped to [0, T] and T ignored (HF's ignored_index). Throws naming the missing
// batch field.
torch::Tensor supervised_loss(const ModelOutput& output, const Batch& batch, HeadKind kind);

// Logits for a loss: bf16/fp16 ones (a forward pass under autocast) upcast to fp32, others as
// they are, so that losses are at least fp32 whatever precision the forward pass ran in.
torch::Tensor at_least_fp32(const torch::Tensor& logits);

}  // namespace kprune
