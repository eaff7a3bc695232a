#include "framework/model/losses.h"

#include "framework/util/error.h"

namespace kprune {

torch::Tensor at_least_fp32(const torch::Tensor& logits) {
  const bool reduced =
      logits.scalar_type() == torch::kBFloat16 || logits.scalar_type() == torch::kHalf;
  return reduced ? logits.to(torch::kFloat) : logits;
}

torch::Tensor supervised_loss(const ModelOutput& output, const Batch& batch, HeadKind kind) {
  namespace F = torch::nn::functional;
  switch (kind) {
    case HeadKind::classification:
      if (!batch.labels.defined()) fail("classification loss: the batch has no labels");
      return F::cross_entropy(at_least_fp32(output.logits), batch.labels.to(torch::kInt64));
    case HeadKind::regression: {
      if (!batch.labels.defined()) fail("regression loss: the batch has no labels");
      const torch::Tensor predictions = at_least_fp32(output.logits).squeeze(-1);
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
      return (F::cross_entropy(at_least_fp32(output.start_logits), start, options) +
              F::cross_entropy(at_least_fp32(output.end_logits), end, options)) /
             2;
    }
  }
  fail("supervised_loss: unknown head kind");
}

}  // namespace kprune
