// Cost accounting (algorithms.md 2.1/2.2, invariant 1) and device/thread settings.
#include <gtest/gtest.h>

#include <algorithm>

#include "framework/model/device.h"
#include "framework/model/flops.h"
#include "framework/util/error.h"

namespace kprune {
namespace {

EncoderConfig shape(int64_t layers) {
  EncoderConfig config;
  config.vocab_size = 30522;
  config.hidden_size = 768;
  config.num_layers = layers;
  config.num_heads = 12;
  config.intermediate_size = 3072;
  config.reset_unit_counts();
  return config;
}

struct Row {
  const char* task;
  double seq_len, head, neuron, bert_gflops, distil_gflops;
};

// algorithms.md 2.1 table.
const Row kTable[] = {
    {"stsb", 31.47, 1.262804e7, 9.667584e4, 5.3823, 2.6911},
    {"mrpc", 53.24, 2.166045e7, 1.635533e5, 9.1483, 4.5742},
    {"rte", 64.59, 2.646582e7, 1.984205e5, 11.1257, 5.5628},
    {"sst2", 25.16, 1.005537e7, 7.729152e4, 4.2972, 2.1486},
    {"qqp", 30.55, 1.225167e7, 9.384960e4, 5.2239, 2.6120},
    {"qnli", 50.97, 2.070729e7, 1.565798e5, 8.7540, 4.3770},
    {"cola", 11.67, 4.623695e6, 3.585024e4, 1.9874, 0.9937},
    {"mnli", 39.05, 1.574546e7, 1.199616e5, 6.6896, 3.3448},
    {"squad", 170, 7.424512e7, 5.222400e5, 29.9432, 14.9716},
};

TEST(Flops, ReproducesTheTable) {
  const EncoderConfig bert = shape(12), distil = shape(6);
  for (const Row& row : kTable) {
    const double l = task_flops_seq_len(row.task);
    EXPECT_EQ(l, row.seq_len) << row.task;
    // The table has 7 significant digits (4-5 decimals for GFLOPs).
    EXPECT_NEAR(head_flops(bert, l) / row.head, 1.0, 5e-7) << row.task;
    EXPECT_NEAR(neuron_flops(bert, l) / row.neuron, 1.0, 5e-7) << row.task;
    EXPECT_NEAR(model_flops(bert, l) / 1e9, row.bert_gflops, 5e-5) << row.task;
    EXPECT_NEAR(model_flops(distil, l) / 1e9, row.distil_gflops, 5e-5) << row.task;
    EXPECT_EQ(head_flops(bert, l), 2 * head_macs(bert, l));
    EXPECT_EQ(neuron_flops(bert, l), 2 * neuron_macs(bert, l));
    EXPECT_EQ(model_flops(bert, l), 2 * model_macs(bert, l));
  }
  // Exact formula values (invariant 1, rel. err < 1e-9): d=768, d_h=64, l=10.
  EXPECT_NEAR(head_flops(bert, 10) / (8.0 * 768 * 64 * 10 + 4.0 * 64 * 100), 1.0, 1e-12);
  EXPECT_NEAR(neuron_flops(bert, 10) / (4.0 * 10 * 768), 1.0, 1e-12);
}

TEST(Flops, UsesPerLayerCounts) {
  EncoderConfig pruned = shape(2);
  pruned.heads_per_layer = {3, 0};
  pruned.neurons_per_layer = {100, 7};
  EXPECT_DOUBLE_EQ(model_flops(pruned, 20),
                   3 * head_flops(pruned, 20) + 107 * neuron_flops(pruned, 20));
  EXPECT_DOUBLE_EQ(full_model_flops(pruned, 20), model_flops(shape(2), 20));
}

TEST(Flops, TaskNames) {
  EXPECT_EQ(task_flops_seq_len("SST-2"), 25.16);
  EXPECT_EQ(task_flops_seq_len("sts_b"), 31.47);
  EXPECT_EQ(task_flops_seq_len("squad_v2"), 170);
  EXPECT_EQ(flops_tasks().size(), 9u);
  try {
    task_flops_seq_len("wnli");
    FAIL();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("'wnli': known tasks are sst2, mrpc"),
              std::string::npos)
        << error.what();
  }
}

TEST(Device, ParsesSpecs) {
  EXPECT_EQ(parse_device("cpu"), torch::Device(torch::kCPU));
  EXPECT_EQ(parse_device("auto").is_cuda(), torch::cuda::is_available());
  EXPECT_THROW(parse_device("gpu"), Error);
  EXPECT_THROW(parse_device("cuda:x"), Error);
  if (!torch::cuda::is_available()) {
    try {
      parse_device("cuda:0");
      FAIL();
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find("CUDA is not available"), std::string::npos);
    }
  } else {
    EXPECT_EQ(parse_device("cuda"), torch::Device(torch::kCUDA, 0));
  }
}

TEST(Device, ConfiguresThreadsWithoutMultiplyingPools) {
  const ThreadPlan one = configure_threads(1);
  EXPECT_EQ(one.intra_op, 1);
  EXPECT_EQ(torch::get_num_threads(), 1);
  EXPECT_LE(one.blas, 1);
  const ThreadPlan all = configure_threads(0);
  EXPECT_EQ(torch::get_num_threads(), all.intra_op);
  // One pool gets the cores, the other one thread.
  EXPECT_EQ(std::max(all.intra_op, all.blas), available_cores());
  EXPECT_EQ(std::min(all.intra_op, std::max(all.blas, 1)), 1);
  EXPECT_THROW(configure_threads(-1), Error);
  // bf16 training: the products run in oneDNN on the intra-op pool, which gets the cores.
  const ThreadPlan bf16 = configure_threads(0, Precision::bf16);
  EXPECT_EQ(bf16.intra_op, available_cores());
  EXPECT_EQ(torch::get_num_threads(), available_cores());
  EXPECT_LE(bf16.blas, 1);
  configure_threads(1);
}

}  // namespace
}  // namespace kprune
