#include <gtest/gtest.h>

#include "framework/model/precision.h"
#include "framework/util/error.h"

namespace kprune {
namespace {

TEST(Precision, ParsesItsTwoNamesAndNamesABadOne) {
  EXPECT_EQ(parse_precision("fp32"), Precision::fp32);
  EXPECT_EQ(parse_precision("bf16"), Precision::bf16);
  EXPECT_EQ(precision_name(Precision::bf16), "bf16");
  EXPECT_EQ(precision_name(Precision::fp32), "fp32");
  try {
    parse_precision("fp16");
    FAIL() << "fp16 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("precision 'fp16': expected fp32 or bf16"),
              std::string::npos)
        << e.what();
  }
}

TEST(PrecisionScope, Bf16RunsTheMatrixProductsInBfloat16AndEndsWithTheScope) {
  torch::manual_seed(0);
  const torch::Tensor x = torch::randn({8, 64});
  const torch::Tensor w = torch::randn({16, 64});
  const torch::Tensor exact = torch::linear(x, w);  // [8, 16]
  {
    PrecisionScope fp32(Precision::fp32, torch::kCPU);
    EXPECT_TRUE(torch::equal(torch::linear(x, w), exact));
  }
  {
    PrecisionScope bf16(Precision::bf16, torch::kCPU);
    const torch::Tensor y = torch::linear(x, w);
    EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
    // The product of the rounded operands: bf16 keeps 8 significant bits.
    EXPECT_TRUE(torch::equal(y, torch::linear(x.to(torch::kBFloat16), w.to(torch::kBFloat16))));
    const double error = (y.to(torch::kFloat) - exact).abs().max().item<double>();
    EXPECT_GT(error, 0.0);
    EXPECT_LT(error, 0.05 * exact.abs().max().item<double>());
    {
      PrecisionScope inner(Precision::bf16, torch::kCPU);
      EXPECT_EQ(torch::matmul(x, w.t()).scalar_type(), torch::kBFloat16);
    }
    // The inner scope's end leaves the outer one in force.
    EXPECT_EQ(torch::linear(x, w).scalar_type(), torch::kBFloat16);
  }
  EXPECT_TRUE(torch::equal(torch::linear(x, w), exact));
}

// Autocast caches the bf16 copy of a weight; an optimizer step between two forward passes
// must not leave the second one with the stale copy.
TEST(PrecisionScope, TheNextScopeSeesWeightsChangedInBetween) {
  torch::manual_seed(1);
  const torch::Tensor x = torch::randn({4, 32});
  torch::Tensor w = torch::randn({8, 32}).requires_grad_(true);  // a leaf: its cast is cached
  torch::Tensor first, second;
  {
    PrecisionScope bf16(Precision::bf16, torch::kCPU);
    first = torch::linear(x, w).detach();
  }
  {
    torch::NoGradGuard no_grad;
    w.mul_(-1);
  }
  {
    PrecisionScope bf16(Precision::bf16, torch::kCPU);
    second = torch::linear(x, w).detach();
  }
  EXPECT_TRUE(torch::equal(second, -first));
}

}  // namespace
}  // namespace kprune
