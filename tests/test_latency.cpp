// Latency measurement (framework/model/latency.h) on a tiny model: the grid, the statistics,
// the JSON report and the input checks.
#include <gtest/gtest.h>

#include <algorithm>

#include "framework/model/latency.h"
#include "framework/util/error.h"
#include "tests/model_fixtures.h"

namespace kprune {
namespace {

TEST(Latency, MeasuresEveryGridPointBatchMajor) {
  const auto model = testing::tiny_model(testing::tiny_config(), 1);
  LatencyOptions options;
  options.batch_sizes = {1, 3};
  options.seq_lens = {4, 16};
  options.warmup = 1;
  options.repetitions = 3;
  const LatencyResult result = measure_latency(*model, options);
  EXPECT_EQ(result.device, "cpu");
  EXPECT_EQ(result.intra_op_threads, torch::get_num_threads());
  ASSERT_EQ(result.points.size(), 4u);
  const std::vector<std::pair<int64_t, int64_t>> grid = {{1, 4}, {1, 16}, {3, 4}, {3, 16}};
  for (size_t i = 0; i < grid.size(); ++i) {
    const LatencyPoint& p = result.points[i];
    EXPECT_EQ(p.batch_size, grid[i].first);
    EXPECT_EQ(p.seq_len, grid[i].second);
    ASSERT_EQ(p.seconds.size(), 3u);
    const auto [lo, hi] = std::minmax_element(p.seconds.begin(), p.seconds.end());
    EXPECT_DOUBLE_EQ(p.min_ms, 1e3 * *lo);
    EXPECT_DOUBLE_EQ(p.max_ms, 1e3 * *hi);
    std::vector<double> sorted = p.seconds;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_DOUBLE_EQ(p.median_ms, 1e3 * sorted[1]);
    EXPECT_DOUBLE_EQ(p.tokens_per_second, double(p.batch_size * p.seq_len) / sorted[1]);
    EXPECT_DOUBLE_EQ(p.sequences_per_second, double(p.batch_size) / sorted[1]);
  }
  const nlohmann::json json = result.to_json();
  EXPECT_EQ(json.at("repetitions"), 3);
  EXPECT_EQ(json.at("warmup"), 1);
  EXPECT_EQ(json.at("points").size(), 4u);
  EXPECT_EQ(json.at("points")[2].at("batch_size"), 3);
  EXPECT_EQ(json.at("points")[2].at("seconds").size(), 3u);
}

TEST(Latency, RandomBatchIsDeterministicAndUnpadded) {
  const auto config = testing::tiny_config();
  const Batch a = random_batch(config, 2, 5, 7, torch::kCPU);
  const Batch b = random_batch(config, 2, 5, 7, torch::kCPU);
  EXPECT_TRUE(torch::equal(a.input_ids, b.input_ids));
  EXPECT_EQ(a.input_ids.sizes(), (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(a.attention_mask.sum().item<int64_t>(), 10);
  EXPECT_LT(a.input_ids.max().item<int64_t>(), config.vocab_size);
}

TEST(Latency, RejectsBadGrids) {
  const auto model = testing::tiny_model(testing::tiny_config(), 1);
  LatencyOptions options;
  options.seq_lens = {17};  // the tiny model has 16 positions
  EXPECT_THROW(measure_latency(*model, options), Error);
  options.seq_lens = {};
  EXPECT_THROW(measure_latency(*model, options), Error);
  options.seq_lens = {4};
  options.batch_sizes = {0};
  EXPECT_THROW(measure_latency(*model, options), Error);
  options.batch_sizes = {1};
  options.repetitions = 0;
  EXPECT_THROW(measure_latency(*model, options), Error);
}

}  // namespace
}  // namespace kprune
