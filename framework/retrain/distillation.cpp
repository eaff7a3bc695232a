#include "framework/retrain/distillation.h"

#include "framework/model/losses.h"
#include "framework/util/error.h"

namespace kprune {

torch::Tensor soft_cross_entropy(const torch::Tensor& student, const torch::Tensor& teacher) {
  const torch::Tensor targets = torch::softmax(at_least_fp32(teacher), -1);
  return -(targets * torch::log_softmax(at_least_fp32(student), -1)).sum(-1).mean();
}

torch::Tensor hidden_state_loss(const std::vector<torch::Tensor>& student,
                                const std::vector<torch::Tensor>& teacher,
                                const std::vector<int64_t>& index) {
  if (student.size() != index.size()) {
    fail("hidden-state loss: {} student states but {} index entries", student.size(), index.size());
  }
  torch::Tensor total;
  for (size_t k = 0; k < student.size(); ++k) {
    if (index[k] < 0 || index[k] >= static_cast<int64_t>(teacher.size())) {
      fail("hidden-state loss: teacher state {} of {}", index[k], teacher.size());
    }
    const torch::Tensor term = torch::mse_loss(
        at_least_fp32(student[k]), at_least_fp32(teacher[static_cast<size_t>(index[k])]));
    total = total.defined() ? total + term : term;
  }
  return total;
}

std::vector<int64_t> hidden_state_index(const std::vector<int64_t>& kept_layers,
                                        int64_t num_layers) {
  std::vector<int64_t> index(kept_layers.begin(), kept_layers.end());
  index.push_back(num_layers);
  return index;
}

torch::Tensor distillation_loss(const ModelOutput& student, const ModelOutput& teacher,
                                const std::vector<int64_t>& index, HeadKind kind,
                                RegressionLogitLoss regression, double lambda_logits,
                                double lambda_hidden) {
  torch::Tensor loss =
      lambda_hidden * hidden_state_loss(student.hidden_states, teacher.hidden_states, index);
  if (kind == HeadKind::classification) {
    loss = loss + lambda_logits * soft_cross_entropy(student.logits, teacher.logits);
  } else if (kind == HeadKind::regression && regression == RegressionLogitLoss::mse) {
    loss = loss + lambda_logits *
                      torch::mse_loss(at_least_fp32(student.logits), at_least_fp32(teacher.logits));
  } else if (kind == HeadKind::question_answering) {
    fail("DynaBERT distillation is defined for sentence(-pair) tasks, not question answering");
  }
  return loss;
}

}  // namespace kprune
