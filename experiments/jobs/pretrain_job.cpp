#include "experiments/jobs/pretrain_job.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "experiments/jobs/input_checks.h"
#include "experiments/jobs/recipe_params.h"
#include "experiments/jobs/task_data.h"
#include "framework/model/device.h"
#include "framework/train/encoder_pretraining.h"
#include "framework/util/sha256.h"

namespace kprune::jobs {
namespace {

namespace fs = std::filesystem;

// The shared corpus, written once per artifacts folder (atomically, so ranks racing on it write
// the same bytes and none reads half a file).
constexpr const char* kCorpusTasks[] = {"sst2", "mrpc", "stsb", "qqp"};

std::string default_corpus_path(const std::string& artifacts_dir) {
  return (fs::path(artifacts_dir) / "corpus.txt").string();
}

// The WikiText files of the default corpus: the [data] entry `wikitext`, else ../shared/data's.
std::vector<std::string> wikitext_files(const std::map<std::string, std::string>& data_dirs) {
  auto it = data_dirs.find("wikitext");
  const std::string dir = it != data_dirs.end() ? it->second : "../shared/data/corpus/wikitext-2";
  return {dir + "/wiki.valid.tokens", dir + "/wiki.test.tokens"};
}

std::string default_corpus(sweep::WorkerContext& context) {
  const std::string path = default_corpus_path(context.artifacts_dir);
  if (fs::exists(path)) return path;
  std::vector<std::pair<std::string, std::string>> task_dirs;
  for (const char* name : kCorpusTasks) {
    const TaskSpec& task = find_task(name);
    task_dirs.emplace_back(task.name, task_data_dir(task, context));
  }
  fs::create_directories(context.artifacts_dir);
  write_pretrain_corpus(path, wikitext_files(context.data_dirs), task_dirs);
  return path;
}

// The corpus (or what the default corpus is made of), the vocabulary, the starting checkpoint.
InputProblems check_pretrain_inputs(const sweep::JobSpec& spec, sweep::InputCheckContext& context) {
  const Params& p = spec.params;
  InputProblems problems;
  auto add = [&](InputProblems more) { problems.insert(problems.end(), more.begin(), more.end()); };
  if (p.has("corpus")) {
    add(check_input_file(p.get_string("corpus", ""), "corpora", "corpus"));
  } else if (!fs::exists(default_corpus_path(context.artifacts_dir))) {
    for (const std::string& file : wikitext_files(context.data_dirs))
      add(check_input_file(file, "corpora", "data.wikitext"));
    for (const char* name : kCorpusTasks) add(check_task_data(find_task(name), context));
  }
  add(check_input_file(default_vocab(context.data_dirs), "data", "data.vocab"));
  const std::string init = p.get_string("init_checkpoint", "");
  if (!init.empty()) add(check_checkpoint(init, nullptr, "init_checkpoint", context));
  return problems;
}

sweep::JobResult run_pretrain(const sweep::JobSpec& spec, sweep::WorkerContext& context) {
  const Params& p = spec.params;
  PretrainRecipe recipe;
  recipe.corpus = {p.has("corpus") ? p.get_string("corpus", "") : default_corpus(context)};
  recipe.vocab = default_vocab(context.data_dirs);
  recipe.init_checkpoint = p.get_string("init_checkpoint", "");
  read_shape_params(p, recipe);
  recipe.seq_len = p.get_int("seq_len", recipe.seq_len);
  recipe.embedding_init = p.get_string("embedding_init", recipe.embedding_init);
  recipe.ppmi_window = p.get_int("ppmi_window", recipe.ppmi_window);
  PretrainOptions& o = recipe.options;
  read_optimizer_params(p, o);
  configure_threads(context.threads, o.precision);
  o.save_every = p.get_int("save_every", o.save_every);
  o.device = parse_device(context.device);

  // Not cleared first: a retry resumes from the saved state (same job id, same recipe).
  const std::string out_dir = (fs::path(context.artifacts_dir) / spec.id).string();
  const PretrainRun run = pretrain_encoder(recipe, out_dir, context.log_stream());

  sweep::JobResult result;
  result.attrs["metric_name"] = "mlm_loss";
  result.attrs["checkpoint"] = out_dir;
  result.attrs["checkpoint_sha256"] = sha256_file(out_dir + "/model.safetensors");
  result.metrics["mlm_loss"] = run.result.final_loss;
  result.times["train"] = run.result.train_seconds;
  context.log_stream() << fmt::format("{} steps, MLM loss {:.3f}, {:.0f} tokens/s\n",
                                      run.result.steps, run.result.final_loss,
                                      run.result.tokens_per_second);
  return result;
}

}  // namespace

sweep::JobKind pretrain_job_kind() {
  return {"pretrain",
          {"model",       "tag",          "corpus",        "init_checkpoint",
           "model_type",  "layers",       "hidden",        "heads",
           "ffn",         "max_position", "seq_len",       "embedding_init",
           "ppmi_window", "steps",        "batch_size",    "lr",
           "warmup",      "weight_decay", "max_grad_norm", "save_every",
           "seed",        "precision"},
          {},
          run_pretrain,
          {},
          check_pretrain_inputs};
}

}  // namespace kprune::jobs
