#include "framework/train/embedding_init.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "framework/util/error.h"

namespace kprune {
namespace {

torch::Tensor orthonormal_columns(const torch::Tensor& x) {
  return std::get<0>(torch::linalg_qr(x, "reduced"));
}

}  // namespace

TruncatedSvd randomized_svd(const torch::Tensor& matrix, int64_t rank,
                            const PpmiSvdOptions& options) {
  const int64_t m = matrix.size(0), n = matrix.size(1);
  if (rank <= 0 || rank > std::min(m, n)) {
    fail("randomized_svd: rank {} outside [1, {}] for a [{}, {}] matrix", rank, std::min(m, n), m,
         n);
  }
  const torch::Tensor transposed = matrix.is_sparse() ? matrix.t().coalesce() : matrix.t();
  const int64_t width = std::min(rank + options.oversampling, std::min(m, n));
  auto generator = at::detail::createCPUGenerator(options.seed);
  const torch::Tensor probe =
      torch::randn({n, width}, generator, torch::TensorOptions().dtype(matrix.dtype()));
  torch::Tensor range = orthonormal_columns(torch::mm(matrix, probe));  // [m, width]
  for (int64_t i = 0; i < options.power_iterations; ++i) {
    range =
        orthonormal_columns(torch::mm(matrix, orthonormal_columns(torch::mm(transposed, range))));
  }
  // matrix ~ range (range^T matrix) = range (W diag(S) Z^T)^T with transposed·range = W S Z^T.
  const auto [w, s, z_t] = torch::linalg_svd(torch::mm(transposed, range), false);
  return {torch::mm(range, z_t.t()).narrow(1, 0, rank), s.narrow(0, 0, rank), w.narrow(1, 0, rank)};
}

torch::Tensor ppmi_matrix(const std::vector<int64_t>& stream, int64_t separator, int64_t vocab_size,
                          const PpmiSvdOptions& options) {
  if (options.window <= 0) fail("ppmi_matrix: window must be positive (got {})", options.window);
  std::unordered_map<int64_t, double> pairs;  // key: row * vocab_size + column
  pairs.reserve(stream.size() * 2);
  std::vector<double> counts(vocab_size, 0.0);  // row sums = column sums (pairs are symmetric)
  const auto size = static_cast<int64_t>(stream.size());
  for (int64_t i = 0; i < size; ++i) {
    if (stream[i] != separator && (stream[i] < 0 || stream[i] >= vocab_size)) {
      fail("ppmi_matrix: token id {} at stream position {} outside the vocabulary of {}", stream[i],
           i, vocab_size);
    }
  }
  for (int64_t i = 0; i < size; ++i) {
    const int64_t word = stream[i];
    if (word == separator) continue;
    for (int64_t d = 1; d <= options.window && i + d < size && stream[i + d] != separator; ++d) {
      const int64_t context = stream[i + d];
      const double weight = 1.0 / static_cast<double>(d);
      pairs[word * vocab_size + context] += weight;
      pairs[context * vocab_size + word] += weight;
      counts[word] += weight;
      counts[context] += weight;
    }
  }
  double smoothed_total = 0;
  std::vector<double> smoothed(vocab_size);
  for (int64_t v = 0; v < vocab_size; ++v) {
    smoothed[v] = std::pow(counts[v], options.context_smoothing);
    smoothed_total += smoothed[v];
  }
  std::vector<int64_t> rows, columns;
  std::vector<float> values;
  for (const auto& [key, count] : pairs) {
    const int64_t row = key / vocab_size, column = key % vocab_size;
    // log [ P(w, c) / (P(w) P_alpha(c)) ]
    const double pmi = std::log(count * smoothed_total / (counts[row] * smoothed[column]));
    if (pmi <= 0) continue;
    rows.push_back(row);
    columns.push_back(column);
    values.push_back(static_cast<float>(pmi));
  }
  const auto nnz = static_cast<int64_t>(values.size());
  torch::Tensor indices = torch::stack({torch::tensor(rows, torch::kInt64).view({nnz}),
                                        torch::tensor(columns, torch::kInt64).view({nnz})});
  return torch::sparse_coo_tensor(indices, torch::tensor(values).view({nnz}),
                                  {vocab_size, vocab_size})
      .coalesce();
}

CorpusEmbeddings ppmi_svd_embeddings(const std::vector<int64_t>& stream, int64_t separator,
                                     int64_t vocab_size, int64_t dim, double scale,
                                     const PpmiSvdOptions& options) {
  const torch::Tensor ppmi = ppmi_matrix(stream, separator, vocab_size, options);
  if (ppmi._nnz() == 0) fail("ppmi_svd_embeddings: the corpus has no co-occurring pieces");
  // A toy vocabulary smaller than the hidden size leaves the remaining columns zero.
  const TruncatedSvd svd = randomized_svd(ppmi, std::min(dim, vocab_size), options);
  torch::Tensor embeddings = torch::zeros({vocab_size, dim}, svd.u.dtype());  // [V, dim]
  embeddings.narrow(1, 0, svd.s.size(0)).copy_(svd.u * svd.s.sqrt().unsqueeze(0));
  torch::Tensor seen = torch::zeros({vocab_size}, torch::kBool);
  seen.index_put_({ppmi._indices()[0]}, true);
  const double spread = embeddings.index({seen}).std().item<double>();
  embeddings = embeddings * (scale / spread);
  embeddings.index_put_({seen.logical_not()}, 0.0);
  return {embeddings.contiguous(), seen};
}

}  // namespace kprune
