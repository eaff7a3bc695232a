#include "framework/tasks/glue.h"

#include <utility>

#include "framework/tasks/glue_tsv.h"

namespace kprune {
namespace {

const std::vector<std::string> kStandardSplits = {"train", "dev", "test"};
const std::vector<std::string> kBinaryDigits = {"0", "1"};
const std::vector<std::string> kEntailment = {"entailment", "not_entailment"};

TaskSpec classification(std::string name, std::string dir_name, std::vector<std::string> labels,
                        int64_t max_seq_len, GlueTsvFormat format) {
  TaskSpec spec;
  spec.name = std::move(name);
  spec.dir_name = std::move(dir_name);
  spec.head_kind = HeadKind::classification;
  spec.num_labels = static_cast<int64_t>(labels.size());
  spec.label_names = std::move(labels);
  spec.max_seq_len = max_seq_len;
  spec.main_metric = "accuracy";
  spec.metrics = {"accuracy"};
  spec.splits = kStandardSplits;
  spec.read = glue_tsv_reader(std::move(format));
  return spec;
}

TaskSpec cola() {
  // train/dev: headerless "source, label, original label, sentence"; test: "index, sentence".
  TaskSpec spec = classification("cola", "CoLA", kBinaryDigits, 64,
                                 {"sentence", "", "label", GlueTsvFormat::Positions{4, 3, -1, 1}});
  spec.main_metric = "mcc";
  spec.metrics = {"mcc"};
  return spec;
}

TaskSpec mrpc() {
  TaskSpec spec =
      classification("mrpc", "MRPC", kBinaryDigits, 128, {"#1 String", "#2 String", "Quality", {}});
  spec.metrics = {"accuracy", "f1"};
  return spec;
}

TaskSpec stsb() {
  TaskSpec spec = classification("stsb", "STS-B", {}, 128, {"sentence1", "sentence2", "score", {}});
  spec.head_kind = HeadKind::regression;
  spec.num_labels = 1;
  spec.main_metric = "spearman";
  spec.metrics = {"pearson", "spearman"};
  return spec;
}

TaskSpec qqp() {
  // "id, qid1, qid2, question1, question2, is_duplicate"; train subsets come without a header.
  TaskSpec spec = classification(
      "qqp", "QQP", kBinaryDigits, 128,
      {"question1", "question2", "is_duplicate", GlueTsvFormat::Positions{6, 3, 4, 5}});
  spec.metrics = {"accuracy", "f1"};
  // The GLUE QQP train file itself has a row without the tab before its label (id 133273).
  spec.malformed_rows = MalformedRows::skip;
  return spec;
}

TaskSpec mnli() {
  TaskSpec spec = classification("mnli", "MNLI", {"entailment", "neutral", "contradiction"}, 128,
                                 {"sentence1", "sentence2", "gold_label", {}});
  spec.splits = {"train", "dev_matched", "dev_mismatched", "test_matched", "test_mismatched"};
  spec.dev_split = "dev_matched";
  return spec;
}

TaskSpec qnli() {
  return classification("qnli", "QNLI", kEntailment, 128, {"question", "sentence", "label", {}});
}

TaskSpec rte() {
  return classification("rte", "RTE", kEntailment, 128, {"sentence1", "sentence2", "label", {}});
}

}  // namespace

TaskSpec glue_sst2_task_spec() {
  return classification("sst2", "SST-2", kBinaryDigits, 64, {"sentence", "", "label", {}});
}

std::vector<TaskSpec> glue_task_specs() {
  return {cola(), glue_sst2_task_spec(), mrpc(), stsb(), qqp(), mnli(), qnli(), rte()};
}

}  // namespace kprune
