// The sample set of algorithms.md section 3 (invariant 14) and the portable index RNG.
#include <gtest/gtest.h>

#include <limits>
#include <set>

#include "framework/tasks/index_sampler.h"
#include "framework/tasks/sample_set.h"
#include "framework/util/error.h"

namespace kprune {
namespace {

// Ten features of lengths 3..12 whose ids encode (feature, position), labels alternate.
std::vector<Feature> toy_features() {
  std::vector<Feature> features;
  for (int64_t i = 0; i < 10; ++i) {
    Feature feature;
    for (int64_t t = 0; t < 3 + i; ++t) {
      feature.input_ids.push_back(100 * (i + 1) + t);
      feature.token_type_ids.push_back(t % 2);
    }
    feature.label = static_cast<double>(i % 2);
    feature.example_index = i;
    features.push_back(feature);
  }
  return features;
}

TEST(IndexSampler, IsTheDocumentedMt19937_64Draw) {
  // The first two outputs of mt19937_64 seeded with 5489 (its default seed) are
  // 14514284786278117030 and 4620546740167642908.
  IndexSampler small(5489);
  // 2^64 mod 1000 = 616, so the first output is accepted: 14514284786278117030 mod 1000 = 30.
  EXPECT_EQ(small.below(1000), 30u);
  // For n = 2^63 + 1 only outputs <= 2^63 are accepted: the first is rejected, the second kept.
  IndexSampler large(5489);
  EXPECT_EQ(large.below((uint64_t{1} << 63) + 1), uint64_t{4620546740167642908});
  EXPECT_THROW(large.below(0), Error);
}

TEST(SampleSet, SizeRule) {
  // N = min(floor(1e5 / l), |train|) with the l of algorithms.md 2.1.
  EXPECT_EQ(sample_set_size(53.24, 100000, 3668), 1878);   // MRPC: 1878.29
  EXPECT_EQ(sample_set_size(25.16, 100000, 67349), 3974);  // SST-2: 3974.56
  EXPECT_EQ(sample_set_size(31.47, 100000, 5749), 3177);   // STS-B: 3177.63
  EXPECT_EQ(sample_set_size(64.59, 100000, 1000), 1000);   // capped by |train|
  EXPECT_THROW(sample_set_size(0, 100000, 10), Error);
}

TEST(SampleSet, DeterministicWithReplacementInDrawOrder) {
  const auto train = toy_features();
  const SampleSet set = make_sample_set(train, HeadKind::classification, 25, 7, 8);
  ASSERT_EQ(set.indices.size(), 25u);
  // 25 draws from 10 items must repeat some (with replacement).
  EXPECT_LT(std::set<int64_t>(set.indices.begin(), set.indices.end()).size(), 25u);
  int64_t tokens = 0;
  for (const int64_t index : set.indices) {
    ASSERT_GE(index, 0);
    ASSERT_LT(index, 10);
    tokens += train[static_cast<size_t>(index)].length();
  }
  EXPECT_EQ(set.num_tokens, tokens);

  // Batches of 8, 8, 8, 1 hold the draws in order, each padded to its own longest member.
  ASSERT_EQ(set.batches.size(), 4u);
  EXPECT_EQ(set.batches[3].size(), 1);
  for (size_t b = 0; b < set.batches.size(); ++b) {
    const Batch& batch = set.batches[b];
    int64_t longest = 0;
    for (int64_t row = 0; row < batch.size(); ++row) {
      const Feature& feature = train[static_cast<size_t>(set.indices[b * 8 + row])];
      longest = std::max(longest, feature.length());
      EXPECT_EQ(batch.input_ids[row][0].item<int64_t>(), feature.input_ids[0]);
      EXPECT_EQ(batch.attention_mask[row].sum().item<int64_t>(), feature.length());
      EXPECT_EQ(batch.labels[row].item<int64_t>(), static_cast<int64_t>(feature.label));
    }
    EXPECT_EQ(batch.seq_len(), longest);
  }

  const SampleSet again = make_sample_set(train, HeadKind::classification, 25, 7, 8);
  EXPECT_EQ(again.indices, set.indices);
  for (size_t b = 0; b < set.batches.size(); ++b) {
    EXPECT_TRUE(torch::equal(again.batches[b].input_ids, set.batches[b].input_ids));
  }
  const SampleSet other = make_sample_set(train, HeadKind::classification, 25, 8, 8);
  EXPECT_NE(other.indices, set.indices);
}

TEST(Collate, PadsToTheLongestWithMaskAndLabels) {
  auto train = toy_features();
  train[1].label = 0.25;
  const Batch batch = collate({&train[2], &train[0]}, HeadKind::classification, 9);
  // Feature 2 has 5 tokens, feature 0 has 3: the second row gets 2 pad ids.
  ASSERT_EQ(batch.input_ids.sizes(), (std::vector<int64_t>{2, 5}));
  EXPECT_TRUE(
      torch::equal(batch.input_ids[1], torch::tensor({100, 101, 102, 9, 9}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(batch.token_type_ids[1], torch::tensor({0, 1, 0, 0, 0}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(batch.attention_mask[1], torch::tensor({1, 1, 1, 0, 0}, torch::kInt64)));
  EXPECT_EQ(batch.labels.scalar_type(), torch::kInt64);
  EXPECT_TRUE(torch::equal(batch.labels, torch::tensor({0, 0}, torch::kInt64)));

  const Batch regression = collate({&train[1]}, HeadKind::regression);
  EXPECT_EQ(regression.labels.scalar_type(), torch::kFloat32);
  EXPECT_FLOAT_EQ(regression.labels[0].item<float>(), 0.25f);

  Feature unlabelled = train[3];
  unlabelled.label = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(collate({&unlabelled}, HeadKind::classification).labels.defined());
  EXPECT_THROW(collate({&unlabelled, &train[0]}, HeadKind::classification), Error);
  EXPECT_THROW(collate({}, HeadKind::classification), Error);
}

}  // namespace
}  // namespace kprune
