#pragma once
// Word-embedding initialisation from corpus statistics: the truncated SVD of the positive
// pointwise-mutual-information (PPMI) matrix of word-piece co-occurrence (Levy, Goldberg and
// Dagan, 2015). Seconds of CPU give embeddings in which words used alike lie close; masked
// language modelling that starts from them runs ahead of random rows (on the zoo's corpus its
// loss is about 0.25 lower at equal steps), which a pretraining budget of minutes needs.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace kprune {

struct PpmiSvdOptions {
  int64_t window = 5;               // pieces on each side; a pair at distance d counts 1/d
  double context_smoothing = 0.75;  // context counts raised to this power (word2vec's)
  int64_t oversampling = 16;        // randomized SVD: extra directions
  int64_t power_iterations = 3;     // randomized SVD: subspace iterations
  uint64_t seed = 0;
};

// Rank-`rank` factorisation of `matrix` [m, n] (dense or sparse COO) by randomized subspace
// iteration (Halko, Martinsson and Tropp, 2011): U [m, rank], S [rank] (descending),
// V [n, rank] with matrix ~ U diag(S) V^T. Float32 or float64, as the matrix.
struct TruncatedSvd {
  torch::Tensor u, s, v;
};
TruncatedSvd randomized_svd(const torch::Tensor& matrix, int64_t rank,
                            const PpmiSvdOptions& options);

// The PPMI matrix [vocab_size, vocab_size] (sparse COO, float32) of `stream`, where pairs never
// span a `separator` (the line boundary of the pretraining stream).
torch::Tensor ppmi_matrix(const std::vector<int64_t>& stream, int64_t separator, int64_t vocab_size,
                          const PpmiSvdOptions& options);

// Embeddings [vocab_size, dim] float32: U sqrt(S) of the PPMI matrix, scaled so that the rows
// of pieces with a positive PMI to some context have standard deviation `scale` (the model's
// initializer range); `seen` [vocab_size] bool marks those rows (the others, pieces absent from
// the stream among them, are zero and should keep their random initialisation).
struct CorpusEmbeddings {
  torch::Tensor embeddings;
  torch::Tensor seen;
};
CorpusEmbeddings ppmi_svd_embeddings(const std::vector<int64_t>& stream, int64_t separator,
                                     int64_t vocab_size, int64_t dim, double scale,
                                     const PpmiSvdOptions& options);

}  // namespace kprune
