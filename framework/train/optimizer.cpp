#include "framework/train/optimizer.h"

namespace kprune {

std::unique_ptr<torch::optim::AdamW> make_adamw(
    const torch::OrderedDict<std::string, torch::Tensor>& named_parameters,
    const AdamWSettings& settings) {
  std::vector<torch::Tensor> decay;
  std::vector<torch::Tensor> no_decay;
  for (const auto& item : named_parameters) {
    if (!item.value().requires_grad()) continue;
    const std::string& name = item.key();
    const bool exempt =
        name.find("bias") != std::string::npos || name.find("norm") != std::string::npos;
    (exempt ? no_decay : decay).push_back(item.value());
  }
  auto base = torch::optim::AdamWOptions(settings.learning_rate).eps(settings.epsilon);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay,
                      std::make_unique<torch::optim::AdamWOptions>(
                          torch::optim::AdamWOptions(base).weight_decay(settings.weight_decay)));
  groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(
                                    torch::optim::AdamWOptions(base).weight_decay(0.0)));
  return std::make_unique<torch::optim::AdamW>(std::move(groups), base);
}

void set_learning_rate(torch::optim::AdamW& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) {
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  }
}

}  // namespace kprune
