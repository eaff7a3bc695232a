#include "framework/model/losses.h"

#include "framework/util/error.h"

namespace kprune {

torch::Tensor supervised_loss(const ModelOutput& output, const Batch& batch, HeadKind kind) {
  namespace F = torch::nn::functional;
  // At least fp32 whatever precision the forward pass ran in (bf16 logits under autocast).
  const auto fp32 = [](const torch::Tensor& logits) {
    return logits.scalar_type() == torch::kBFloat16 || logits.scalar_type() == torch::kHalf
               ? logits.to(torch::kFloat)
               : logits;
  };
  switch (kind) {
    case HeadKind::classification:
      if (!batch.labels.defined()) fail("classification loss: the batch has no labels");
      return F::cross_entropy(fp32(output.logits), batch.labels.to(torch::kInt64));
    case HeadKind::regression: {
      if (!batch.labels.defined()) fail("regression loss: the batch has no labels");
      const torch::Tensor predictions = fp32(output.logits).squeeze(-1);
      return F::mse_loss(predictions, batch.labels.to(predictions.dtype()));
    }
    case HeadKind::question_answering: {
      if (!batch.start_positions.defined() || !batch.end_positions.defined()) {
        fail("question answering loss: the batch has no start_positions/end_positions");
      }
      // HF: positions outside the sequence are clamped to T and then ignored.
      const int64_t ignored = output.start_logits.size(1);
      auto options = F::CrossEntropyFuncOptions().ignore_index(ignored);
      auto start = batch.start_positions.to(torch::kInt64).clamp(0, ignored);
      auto end = batch.end_positions.to(torch::kInt64).clamp(0, ignored);
      return (F::cross_entropy(fp32(output.start_logits), start, options) +
              F::cross_entropy(fp32(output.end_logits), end, options)) /
             2;
    }
  }
  fail("supervised_loss: unknown head kind");
}

}  // namespace kprune
