// kprune pretrain-corpus: the pretraining text that shared/data allows: WikiText-2 valid/test
// (headings dropped, its tokenisation artefacts undone) and the TRAIN sentences of GLUE tasks
// (never dev), one per line, exact duplicates dropped (SST-2 train repeats its phrases).
#include "framework/train/pretrain_corpus.h"

#include <fmt/format.h>

#include <memory>
#include <sstream>
#include <unordered_set>

#include "experiments/commands/commands.h"
#include "framework/tasks/task.h"
#include "framework/text/wordpiece_tokenizer.h"
#include "framework/util/files.h"
#include "framework/util/sha256.h"

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
  std::string text;
  std::unordered_set<std::string> seen;
  nlohmann::json sources = nlohmann::json::array();
  auto add_source = [&](const std::string& path, const std::vector<std::string>& lines) {
    int64_t kept = 0;
    for (const std::string& line : lines) {
      if (!seen.insert(line).second) continue;
      text += line + "\n";
      ++kept;
    }
    sources.push_back({{"path", path}, {"sha256", sha256_file(path)}, {"lines", kept}});
  };
  for (const std::string& path : args.wikitext) {
    std::istringstream input(read_file(path));
    std::vector<std::string> lines;
    for (std::string line; std::getline(input, line);) {
      if (auto cleaned = clean_wikitext_line(line)) lines.push_back(*cleaned);
    }
    add_source(path, lines);
  }
  for (const std::string& name : args.tasks) {
    const TaskSpec& task = find_task(name);
    const SplitData split = read_split(task, args.data_dir, task.train_split);
    std::vector<std::string> lines;
    for (const Example& example : split.examples) {
      for (const std::string* sentence :
           {&example.text_a, example.text_b ? &*example.text_b : nullptr}) {
        if (sentence == nullptr) continue;
        const auto begin = sentence->find_first_not_of(" \t");
        const auto end = sentence->find_last_not_of(" \t");
        if (begin != std::string::npos) lines.push_back(sentence->substr(begin, end - begin + 1));
      }
    }
    add_source(split.path, lines);
  }
  write_file_atomic(args.out, text);
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
