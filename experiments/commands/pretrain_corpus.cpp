// kprune pretrain-corpus: the pretraining text that shared/data allows: WikiText-2 valid/test
// (headings dropped, its tokenisation artefacts undone) and the TRAIN sentences of GLUE tasks
// (never dev), one per line, exact duplicates dropped (SST-2 train repeats its phrases).
#include "framework/train/pretrain_corpus.h"

#include <fmt/format.h>

#include <memory>
#include <utility>
#include <vector>

#include "experiments/commands/commands.h"
#include "framework/text/wordpiece_tokenizer.h"
#include "framework/train/encoder_pretraining.h"

namespace kprune::cli {
namespace {

struct CorpusArgs {
  std::string out;
  std::vector<std::string> wikitext = {"../shared/data/corpus/wikitext-2/wiki.valid.tokens",
                                       "../shared/data/corpus/wikitext-2/wiki.test.tokens"};
  std::string data_dir = "../shared/data/glue";
  std::vector<std::string> tasks = {"sst2", "mrpc", "stsb"};
  std::string vocab = "../shared/data/vocab/bert-base-uncased-vocab.txt";
};

void run_pretrain_corpus(const CorpusArgs& args) {
  std::vector<std::pair<std::string, std::string>> task_dirs;
  for (const std::string& task : args.tasks) task_dirs.emplace_back(task, args.data_dir);
  const nlohmann::json sources = write_pretrain_corpus(args.out, args.wikitext, task_dirs);
  // The word-piece count is what pretraining sees (separators not counted).
  const auto tokenizer = WordPieceTokenizer::from_vocab_file(args.vocab, /*lower_case=*/true);
  const PretrainCorpus corpus = read_pretrain_corpus({args.out}, tokenizer);
  fmt::print("{}\n", nlohmann::json{{"out", args.out},
                                    {"sha256", corpus.files[0].sha256},
                                    {"lines", corpus.files[0].lines},
                                    {"tokens", corpus.files[0].tokens},
                                    {"sources", sources}}
                         .dump());
}

}  // namespace

void add_pretrain_corpus_command(CLI::App& app) {
  auto args = std::make_shared<CorpusArgs>();
  CLI::App* cmd = app.add_subcommand(
      "pretrain-corpus", "Write the pretraining text: WikiText-2 + GLUE train sentences");
  cmd->add_option("--out", args->out, "Output text file (one line per document/sentence)")
      ->required();
  cmd->add_option("--wikitext", args->wikitext, "Tokenised WikiText files (wiki.*.tokens)")
      ->capture_default_str();
  cmd->add_option("--data-dir", args->data_dir, "Folder holding <TaskDir>/train.tsv")
      ->capture_default_str();
  cmd->add_option("--task", args->tasks, "Tasks whose train sentences are added")
      ->capture_default_str();
  cmd->add_option("--vocab", args->vocab, "Vocabulary for the token count")->capture_default_str();
  cmd->callback([args] { run_pretrain_corpus(*args); });
}

}  // namespace kprune::cli
