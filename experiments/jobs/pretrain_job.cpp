#include "experiments/jobs/pretrain_job.h"

#include <fmt/format.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

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
std::string default_corpus(sweep::WorkerContext& context) {
  const std::string path = (fs::path(context.artifacts_dir) / "corpus.txt").string();
  if (fs::exists(path)) return path;
  auto it = context.data_dirs.find("wikitext");
  const std::string wikitext =
      it != context.data_dirs.end() ? it->second : "../shared/data/corpus/wikitext-2";
  std::vector<std::pair<std::string, std::string>> task_dirs;
  for (const char* name : {"sst2", "mrpc", "stsb", "qqp"}) {
    const TaskSpec& task = find_task(name);
    task_dirs.emplace_back(task.name, task_data_dir(task, context));
  }
  fs::create_directories(context.artifacts_dir);
  write_pretrain_corpus(path, {wikitext + "/wiki.valid.tokens", wikitext + "/wiki.test.tokens"},
                        task_dirs);
  return path;
}

sweep::JobResult run_pretrain(const sweep::JobSpec& spec, sweep::WorkerContext& context) {
  const Params& p = spec.params;
  PretrainRecipe recipe;
  recipe.corpus = {p.has("corpus") ? p.get_string("corpus", "") : default_corpus(context)};
  auto vocab = context.data_dirs.find("vocab");
  recipe.vocab = vocab != context.data_dirs.end()
                     ? vocab->second
                     : "../shared/data/vocab/bert-base-uncased-vocab.txt";
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
          {}};
}

}  // namespace kprune::jobs
