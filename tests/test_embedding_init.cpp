#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "framework/train/embedding_init.h"

namespace kprune {
namespace {

double entry(const torch::Tensor& dense, int64_t row, int64_t column) {
  return dense.index({row, column}).item<double>();
}

TEST(PpmiMatrix, HandComputedCountsWithoutSmoothing) {
  // Lines (separator 4): "0 1", "0 1", "0 2", "3 3 3", "0 3"; window 1, so each adjacent pair
  // counts once per direction. Counts: C01 = C10 = 2, C02 = C20 = 1, C33 = 4, C03 = C30 = 1;
  // row sums 0: 4, 1: 2, 2: 1, 3: 5; total 12. PMI(w, c) = log(C(w, c) * 12 / (n_w * n_c)).
  const std::vector<int64_t> stream = {0, 1, 4, 0, 1, 4, 0, 2, 4, 3, 3, 3, 4, 0, 3, 4};
  PpmiSvdOptions options;
  options.window = 1;
  options.context_smoothing = 1.0;
  const torch::Tensor ppmi = ppmi_matrix(stream, 4, 5, options);
  EXPECT_EQ(ppmi._nnz(), 5);  // PMI(0, 3) = log(0.6) < 0 is dropped
  const torch::Tensor dense = ppmi.to_dense();
  EXPECT_NEAR(entry(dense, 0, 1), std::log(3.0), 1e-6);
  EXPECT_NEAR(entry(dense, 1, 0), std::log(3.0), 1e-6);
  EXPECT_NEAR(entry(dense, 0, 2), std::log(3.0), 1e-6);
  EXPECT_NEAR(entry(dense, 2, 0), std::log(3.0), 1e-6);
  EXPECT_NEAR(entry(dense, 3, 3), std::log(1.92), 1e-6);
  EXPECT_EQ(entry(dense, 0, 3), 0.0);
  EXPECT_EQ(entry(dense, 4, 4), 0.0);  // the separator is never a word
}

TEST(PpmiMatrix, DistantPairsWeighOneOverDistanceAndSmoothingShrinksRareContexts) {
  // "0 1 2", window 2: C01 = C12 = 1, C02 = 1/2; row sums 0: 1.5, 1: 2, 2: 1.5.
  // With smoothing a = 0.5 the context term is n_c^a / sum n^a.
  const std::vector<int64_t> stream = {0, 1, 2, 3};
  PpmiSvdOptions options;
  options.window = 2;
  options.context_smoothing = 0.5;
  const torch::Tensor dense = ppmi_matrix(stream, 3, 4, options).to_dense();
  const double smoothed_total = std::sqrt(1.5) + std::sqrt(2.0) + std::sqrt(1.5);
  EXPECT_NEAR(entry(dense, 0, 2), std::log(0.5 * smoothed_total / (1.5 * std::sqrt(1.5))), 1e-6);
  EXPECT_NEAR(entry(dense, 0, 1), std::log(1.0 * smoothed_total / (1.5 * std::sqrt(2.0))), 1e-6);
  EXPECT_NEAR(entry(dense, 1, 0), std::log(1.0 * smoothed_total / (2.0 * std::sqrt(1.5))), 1e-6);
}

TEST(PpmiMatrix, PairsNeverSpanTheSeparatorAndBadIdsAreNamed) {
  PpmiSvdOptions options;
  EXPECT_EQ(ppmi_matrix({0, 9, 1, 9, 2}, 9, 10, options)._nnz(), 0);
  try {
    ppmi_matrix({0, 1, 12}, 9, 10, options);
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("token id 12 at stream position 2"), std::string::npos)
        << e.what();
  }
}

TEST(RandomizedSvd, MatchesTheExactSvdOfALowRankMatrixDenseAndSparse) {
  torch::manual_seed(3);
  const torch::Tensor left = torch::randn({60, 5}, torch::kFloat64);
  const torch::Tensor right = torch::randn({5, 40}, torch::kFloat64);
  torch::Tensor matrix = torch::mm(left, right);
  matrix.index_put_({matrix.abs() < 0.5}, 0.0);  // sparse-ish, full rank now
  const torch::Tensor exact = std::get<1>(torch::linalg_svd(matrix, false));
  PpmiSvdOptions options;
  options.power_iterations = 6;
  for (const torch::Tensor& input : {matrix, matrix.to_sparse()}) {
    const TruncatedSvd svd = randomized_svd(input, 4, options);
    ASSERT_EQ(svd.u.sizes(), (std::vector<int64_t>{60, 4}));
    ASSERT_EQ(svd.v.sizes(), (std::vector<int64_t>{40, 4}));
    EXPECT_TRUE(torch::allclose(svd.s, exact.narrow(0, 0, 4), 1e-6, 1e-8))
        << svd.s << exact.narrow(0, 0, 4);
    // Orthonormal factors, and U^T A V = diag(S).
    EXPECT_TRUE(
        torch::allclose(torch::mm(svd.u.t(), svd.u), torch::eye(4, torch::kFloat64), 0, 1e-9));
    EXPECT_TRUE(torch::allclose(torch::mm(svd.u.t(), torch::mm(matrix, svd.v)), torch::diag(svd.s),
                                0, 1e-6));
  }
  EXPECT_THROW(randomized_svd(matrix, 41, options), std::exception);
}

TEST(PpmiSvdEmbeddings, WordsUsedAlikeGetAlikeRowsAndUnseenRowsStayZero) {
  // Pieces 1 and 2 fill the same slots ("5 x 6", "7 x 8"); 3 fills others ("9 3 10"); 13-15
  // never occur. Separator 16.
  std::mt19937 random(7);
  std::vector<int64_t> stream;
  for (int i = 0; i < 400; ++i) {
    const int64_t filler = 1 + static_cast<int64_t>(random() % 2);
    switch (random() % 3) {
      case 0:
        stream.insert(stream.end(), {5, filler, 6, 16});
        break;
      case 1:
        stream.insert(stream.end(), {7, filler, 8, 16});
        break;
      default:
        stream.insert(stream.end(), {9 + static_cast<int64_t>(random() % 3), 3, 12, 16});
    }
  }
  PpmiSvdOptions options;
  options.window = 1;
  const CorpusEmbeddings result = ppmi_svd_embeddings(stream, 16, 17, 6, 0.02, options);
  ASSERT_EQ(result.embeddings.sizes(), (std::vector<int64_t>{17, 6}));
  auto cosine = [&](int64_t a, int64_t b) {
    const torch::Tensor x = result.embeddings[a], y = result.embeddings[b];
    return (x.dot(y) / (x.norm() * y.norm())).item<double>();
  };
  EXPECT_GT(cosine(1, 2), 0.95);
  EXPECT_LT(std::abs(cosine(1, 3)), 0.3);
  for (int64_t unseen : {0, 4, 13, 14, 15, 16}) {
    EXPECT_FALSE(result.seen[unseen].item<bool>()) << unseen;
    EXPECT_EQ(result.embeddings[unseen].abs().sum().item<double>(), 0.0) << unseen;
  }
  EXPECT_TRUE(result.seen[1].item<bool>());
  EXPECT_NEAR(result.embeddings.index({result.seen}).std().item<double>(), 0.02, 1e-6);
}

}  // namespace
}  // namespace kprune
