// GLUE task registry and TSV readers: the real files in ../shared/data/glue (row and label
// counts from data/MANIFEST.md) and hand-written files for every layout and quirk.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>

#include "framework/tasks/glue_tsv.h"
#include "framework/tasks/task.h"
#include "framework/util/error.h"
#include "framework/util/files.h"
#include "tests/test_support.h"

namespace kprune {
namespace {

std::string glue_dir() { return testing::shared_path("data/glue"); }

std::map<double, int64_t> label_counts(const std::vector<Example>& examples) {
  std::map<double, int64_t> counts;
  for (const auto& example : examples) ++counts[example.label];
  return counts;
}

// Writes <dir>/<task dir_name>/<split>.tsv and returns dir.
std::string write_task_file(const std::string& task, const std::string& split,
                            const std::string& bytes) {
  const std::string dir = testing::temp_dir("glue");
  const std::string task_dir = dir + "/" + find_task(task).dir_name;
  std::filesystem::create_directories(task_dir);
  write_file_atomic(task_dir + "/" + split + ".tsv", bytes);
  return dir;
}

// The message of the kprune::Error that `action` throws ("" if none).
template <typename Action>
std::string error_of(Action action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(TaskRegistry, KnowsGlueSyntheticAndSquad) {
  const std::vector<std::string> expected = {"cola",      "sst2",  "mrpc",    "stsb",
                                             "qqp",       "mnli",  "qnli",    "rte",
                                             "synthetic", "squad", "squad_v2"};
  EXPECT_EQ(task_names(), expected);
  EXPECT_EQ(find_task("sst2").dir_name, "SST-2");
  EXPECT_EQ(find_task("sst2").max_seq_len, 64);
  EXPECT_EQ(find_task("cola").max_seq_len, 64);
  EXPECT_EQ(find_task("rte").max_seq_len, 128);
  EXPECT_EQ(find_task("stsb").head_kind, HeadKind::regression);
  EXPECT_EQ(find_task("stsb").num_labels, 1);
  EXPECT_EQ(find_task("mnli").num_labels, 3);
  EXPECT_EQ(find_task("mnli").dev_split, "dev_matched");
  EXPECT_EQ(find_task("mrpc").main_metric, "accuracy");
  EXPECT_EQ(find_task("qqp").main_metric, "accuracy");
  EXPECT_EQ(find_task("stsb").main_metric, "spearman");
  EXPECT_EQ(find_task("cola").main_metric, "mcc");
  for (const auto& name : task_names()) {
    const TaskSpec& task = find_task(name);
    EXPECT_NE(std::find(task.metrics.begin(), task.metrics.end(), task.main_metric),
              task.metrics.end())
        << name;
    if (task.head_kind == HeadKind::classification) {
      EXPECT_EQ(task.num_labels, static_cast<int64_t>(task.label_names.size())) << name;
    }
  }
}

TEST(TaskRegistry, DefaultDataDirFollowsTheTaskFamily) {
  for (const char* name : {"cola", "sst2", "mnli", "rte"}) {
    EXPECT_EQ(find_task(name).data_family, "glue") << name;
    EXPECT_EQ(default_data_dir(find_task(name)), "../shared/data/glue") << name;
  }
  for (const char* name : {"squad", "squad_v2"}) {
    EXPECT_EQ(find_task(name).data_family, "squad") << name;
    EXPECT_EQ(default_data_dir(find_task(name)), "../shared/data/squad") << name;
  }
  EXPECT_EQ(find_task("synthetic").data_family, "synthetic");
}

TEST(TaskRegistry, UnknownTaskListsKnownOnes) {
  const std::string message = error_of([] { find_task("sst-2"); });
  EXPECT_NE(message.find("unknown task 'sst-2'"), std::string::npos) << message;
  EXPECT_NE(message.find("cola, sst2, mrpc"), std::string::npos) << message;
}

TEST(GlueRealFiles, Sst2) {
  const TaskSpec& task = find_task("sst2");
  const auto train = read_examples(task, glue_dir(), "train");
  const auto dev = read_examples(task, glue_dir(), "dev");
  ASSERT_EQ(train.size(), 67349u);
  ASSERT_EQ(dev.size(), 872u);
  // The text is kept byte for byte, with the space before the tab.
  EXPECT_EQ(train[0].text_a, "hide new secretions from the parental units ");
  EXPECT_FALSE(train[0].text_b.has_value());
  EXPECT_EQ(train[0].label, 0);
  EXPECT_EQ(train[0].line, 2);
  EXPECT_EQ(label_counts(train), (std::map<double, int64_t>{{0, 29780}, {1, 37569}}));
  EXPECT_EQ(label_counts(dev), (std::map<double, int64_t>{{0, 428}, {1, 444}}));
  const auto test = read_examples(task, glue_dir(), "test");
  ASSERT_EQ(test.size(), 1821u);
  EXPECT_EQ(test[0].text_a, "uneasy mishmash of styles and genres .");
  EXPECT_TRUE(std::isnan(test[0].label));
}

TEST(GlueRealFiles, MrpcWithBomAndUninterpretedQuotes) {
  const TaskSpec& task = find_task("mrpc");
  const auto train = read_examples(task, glue_dir(), "train");
  ASSERT_EQ(train.size(), 3668u);
  ASSERT_EQ(read_examples(task, glue_dir(), "dev").size(), 408u);
  EXPECT_EQ(train[0].text_a,
            "Amrozi accused his brother, whom he called \"the witness\", of deliberately "
            "distorting his evidence.");
  EXPECT_EQ(train[0].text_b,
            "Referring to him as only \"the witness\", Amrozi accused his "
            "brother of deliberately distorting his evidence.");
  EXPECT_EQ(train[0].label, 1);
  EXPECT_EQ(label_counts(train), (std::map<double, int64_t>{{0, 1194}, {1, 2474}}));
  EXPECT_EQ(read_examples(task, glue_dir(), "test").size(), 1725u);
}

TEST(GlueRealFiles, StsbScoreInLastColumn) {
  const TaskSpec& task = find_task("stsb");
  const auto dev = read_examples(task, glue_dir(), "dev");
  ASSERT_EQ(read_examples(task, glue_dir(), "train").size(), 5749u);
  ASSERT_EQ(dev.size(), 1500u);
  EXPECT_EQ(dev[0].text_a, "A man with a hard hat is dancing.");
  EXPECT_EQ(dev[0].text_b, "A man wearing a hard hat is dancing.");
  EXPECT_EQ(dev[0].label, 5.0);
  EXPECT_EQ(dev[1].label, 4.75);
  double sum = 0;
  for (const auto& example : dev) sum += example.label;
  EXPECT_NEAR(sum / 1500, 2.364, 5e-4);  // MANIFEST: mean score 2.364
  const auto test = read_examples(task, glue_dir(), "test");
  EXPECT_EQ(test.size(), 1379u);
  EXPECT_TRUE(std::isnan(test[0].label));
}

TEST(GlueRealFiles, QnliStringLabels) {
  const auto dev = read_examples(find_task("qnli"), glue_dir(), "dev");
  ASSERT_EQ(dev.size(), 5463u);
  EXPECT_EQ(dev[0].text_a, "What came into force after the new constitution was herald?");
  EXPECT_EQ(dev[0].label, 0);  // entailment
  EXPECT_EQ(dev[1].label, 1);  // not_entailment
  EXPECT_EQ(label_counts(dev), (std::map<double, int64_t>{{0, 2702}, {1, 2761}}));
}

TEST(GlueRealFiles, QqpHeaderlessSubsetSkipsItsMalformedRow) {
  const TaskSpec& task = find_task("qqp");
  const SplitData data = read_split(task, glue_dir(), "train-subset-23497");
  ASSERT_EQ(data.examples.size(), 23496u);
  ASSERT_EQ(data.skipped.size(), 1u);
  EXPECT_EQ(data.skipped[0].line, 1);
  EXPECT_NE(data.skipped[0].reason.find("expected 6 tab-separated fields, found 5"),
            std::string::npos);
  EXPECT_EQ(data.examples[0].line, 2);
  EXPECT_EQ(data.examples[0].text_a, "What causes stool color to change to yellow?");
  EXPECT_EQ(label_counts(data.examples), (std::map<double, int64_t>{{0, 14749}, {1, 8747}}));

  const std::string message =
      error_of([&] { read_split(task, glue_dir(), "train-subset-23497", {MalformedRows::error}); });
  EXPECT_NE(message.find("QQP/train-subset-23497.tsv:1: malformed qqp row: expected 6"),
            std::string::npos)
      << message;
}

TEST(GlueTsv, ColaHeaderlessTrainAndHeaderedTest) {
  const TaskSpec& task = find_task("cola");
  const std::string dir = write_task_file("cola", "train",
                                          "gj04\t1\t\tOur friends won't buy this analysis.\n"
                                          "gj04\t0\t*\tThey drank the pub.\n");
  const auto train = read_examples(task, dir, "train");
  ASSERT_EQ(train.size(), 2u);
  EXPECT_EQ(train[0].text_a, "Our friends won't buy this analysis.");
  EXPECT_EQ(train[0].label, 1);
  EXPECT_EQ(train[1].label, 0);
  EXPECT_EQ(train[1].line, 2);

  const std::string test_dir = write_task_file("cola", "test", "index\tsentence\n0\tBill left.\n");
  const auto test = read_examples(task, test_dir, "test");
  ASSERT_EQ(test.size(), 1u);
  EXPECT_EQ(test[0].text_a, "Bill left.");
  EXPECT_TRUE(std::isnan(test[0].label));
}

TEST(GlueTsv, MnliMatchedAndMismatched) {
  const std::string header =
      "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
      "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tlabel2\tlabel3\tlabel4\t"
      "label5\tgold_label\n";
  auto row = [](const std::string& a, const std::string& b, const std::string& gold) {
    return "0\t1\t2\tfiction\t( x )\t( y )\t(ROOT x)\t(ROOT y)\t" + a + "\t" + b + "\t" + gold +
           "\t" + gold + "\t" + gold + "\t" + gold + "\t" + gold + "\t" + gold + "\n";
  };
  const TaskSpec& task = find_task("mnli");
  const std::string dir =
      write_task_file("mnli", "dev_matched",
                      header + row("P1", "H1", "neutral") + row("P2", "H2", "contradiction") +
                          row("P3", "H3", "entailment"));
  const auto dev = read_examples(task, dir, task.dev_split);
  ASSERT_EQ(dev.size(), 3u);
  EXPECT_EQ(dev[0].text_a, "P1");
  EXPECT_EQ(dev[0].text_b, "H1");
  EXPECT_EQ(dev[0].label, 1);
  EXPECT_EQ(dev[1].label, 2);
  EXPECT_EQ(dev[2].label, 0);
  write_file_atomic(dir + "/MNLI/dev_mismatched.tsv", header + row("Q", "R", "entailment"));
  EXPECT_EQ(read_examples(task, dir, "dev_mismatched").size(), 1u);
}

TEST(GlueTsv, RteAndCrlfLineEnds) {
  const std::string dir = write_task_file(
      "rte", "dev",
      "index\tsentence1\tsentence2\tlabel\r\n0\tA dog runs.\tAn animal moves.\tentailment\r\n"
      "1\tIt rains.\tIt is dry.\tnot_entailment\r\n");
  const auto dev = read_examples(find_task("rte"), dir, "dev");
  ASSERT_EQ(dev.size(), 2u);
  EXPECT_EQ(dev[0].text_b, "An animal moves.");
  EXPECT_EQ(dev[0].label, 0);
  EXPECT_EQ(dev[1].label, 1);
}

TEST(GlueTsv, QuotesAreOrdinaryCharacters) {
  // With csv quoting, the opening quote would swallow the tab and the next line.
  const std::string dir =
      write_task_file("sst2", "dev", "sentence\tlabel\n\"a quoted\tstart \t1\nplain \" text\t0\n");
  const std::string message = error_of([&] { read_examples(find_task("sst2"), dir, "dev"); });
  EXPECT_NE(message.find("SST-2/dev.tsv:2: malformed sst2 row: expected 2 tab-separated fields, "
                         "found 3"),
            std::string::npos)
      << message;
  const std::string ok_dir =
      write_task_file("sst2", "dev", "sentence\tlabel\n\"a quoted start \t1\nplain \" text\t0\n");
  const auto dev = read_examples(find_task("sst2"), ok_dir, "dev");
  ASSERT_EQ(dev.size(), 2u);
  EXPECT_EQ(dev[0].text_a, "\"a quoted start ");
  EXPECT_EQ(dev[1].text_a, "plain \" text");
}

TEST(GlueTsv, MalformedRowsNameFileLineAndExpectation) {
  const TaskSpec& sst2 = find_task("sst2");
  const std::string bad_label =
      write_task_file("sst2", "dev", "sentence\tlabel\nfine\t1\nodd\t2\n");
  std::string message = error_of([&] { read_examples(sst2, bad_label, "dev"); });
  EXPECT_NE(
      message.find("dev.tsv:3: malformed sst2 row: expected a label in {'0', '1'}, found '2'"),
      std::string::npos)
      << message;

  const std::string empty_line = write_task_file("sst2", "dev", "sentence\tlabel\nfine\t1\n\n");
  message = error_of([&] { read_examples(sst2, empty_line, "dev"); });
  EXPECT_NE(message.find("dev.tsv:3: malformed sst2 row: expected 2 tab-separated fields, found 0"),
            std::string::npos)
      << message;

  const TaskSpec& stsb = find_task("stsb");
  const std::string header =
      "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n";
  for (const std::string score : {"abc", "nan", "4.5x", ""}) {
    const std::string dir = write_task_file(
        "stsb", "dev", header + "0\tg\tf\t2012\t0\tnone\tnone\tA.\tB.\t" + score + "\n");
    message = error_of([&] { read_examples(stsb, dir, "dev"); });
    EXPECT_NE(message.find("STS-B/dev.tsv:2: malformed stsb row: expected a finite number as the "
                           "score, found '" +
                           score + "'"),
              std::string::npos)
        << message;
  }
}

TEST(GlueTsv, SkipPolicyReportsEveryRow) {
  const std::string dir =
      write_task_file("sst2", "dev", "sentence\tlabel\nfine\t1\nodd\t7\nshort\nok\t0\n");
  const SplitData data = read_split(find_task("sst2"), dir, "dev", {MalformedRows::skip});
  ASSERT_EQ(data.examples.size(), 2u);
  EXPECT_EQ(data.examples[1].text_a, "ok");
  ASSERT_EQ(data.skipped.size(), 2u);
  EXPECT_EQ(data.skipped[0].line, 3);
  EXPECT_EQ(data.skipped[1].line, 4);
}

TEST(GlueTsv, HeaderProblems) {
  const TaskSpec& sst2 = find_task("sst2");
  const std::string no_header = write_task_file("sst2", "dev", "fine\t1\n");
  std::string message = error_of([&] { read_examples(sst2, no_header, "dev"); });
  EXPECT_NE(message.find("SST-2/dev.tsv:1: expected a header row with columns 'sentence' for task "
                         "sst2; found 'fine', '1'"),
            std::string::npos)
      << message;

  // A labelled split whose header lacks the label column (e.g. a test file renamed to dev).
  const std::string unlabelled = write_task_file("sst2", "dev", "index\tsentence\n0\tfine\n");
  message = error_of([&] { read_examples(sst2, unlabelled, "dev"); });
  EXPECT_NE(message.find("dev.tsv:1: the header has no label column 'label' for task sst2"),
            std::string::npos)
      << message;

  const std::string empty = write_task_file("sst2", "dev", "");
  message = error_of([&] { read_examples(sst2, empty, "dev"); });
  EXPECT_NE(message.find("dev.tsv: the file is empty"), std::string::npos) << message;

  message = error_of([&] { read_examples(sst2, "/nonexistent-kprune-dir", "dev"); });
  EXPECT_NE(message.find("/nonexistent-kprune-dir/SST-2/dev.tsv"), std::string::npos) << message;
}

TEST(GlueTsv, QqpWithHeaderToo) {
  const std::string dir = write_task_file(
      "qqp", "dev", "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n7\t1\t2\tWhy?\tHow?\t1\n");
  const auto dev = read_examples(find_task("qqp"), dir, "dev");
  ASSERT_EQ(dev.size(), 1u);
  EXPECT_EQ(dev[0].text_a, "Why?");
  EXPECT_EQ(dev[0].text_b, "How?");
  EXPECT_EQ(dev[0].label, 1);
}

}  // namespace
}  // namespace kprune
