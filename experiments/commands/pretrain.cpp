// kprune pretrain: masked-language-model pretraining of a BERT or DistilBERT encoder on plain
// text; writes an HF XForMaskedLM checkpoint that `finetune --init-checkpoint` starts from.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "experiments/commands/commands.h"
#include "framework/model/device.h"
#include "framework/model/precision.h"
#include "framework/train/encoder_pretraining.h"
#include "framework/util/timer.h"

namespace kprune::cli {
namespace {

struct PretrainArgs {
  PretrainRecipe recipe;
  std::string out_dir;
  std::string device = "auto";
  std::string precision = "fp32";
  int threads = 0;
};

void run_pretrain(PretrainArgs args) {
  Stopwatch clock;
  args.recipe.options.precision = parse_precision(args.precision);
  configure_threads(args.threads, args.recipe.options.precision);
  args.recipe.options.device = parse_device(args.device);
  const PretrainRun run = pretrain_encoder(args.recipe, args.out_dir, std::cerr);
  const PretrainResult& result = run.result;
  fmt::print("{}\n", nlohmann::json{{"out", args.out_dir},
                                    {"steps", result.steps},
                                    {"finished", result.finished},
                                    {"mlm_loss", result.final_loss},
                                    {"tokens_per_second", result.tokens_per_second},
                                    {"wall_time_s", clock.seconds()}}
                         .dump());
}

}  // namespace

void add_pretrain_command(CLI::App& app) {
  auto args = std::make_shared<PretrainArgs>();
  args->recipe.vocab = "../shared/data/vocab/bert-base-uncased-vocab.txt";
  CLI::App* cmd = app.add_subcommand(
      "pretrain", "Masked-language-model pretraining on plain text (one document per line)");
  PretrainOptions& o = args->recipe.options;
  cmd->add_option("--corpus", args->recipe.corpus, "Plain-text UTF-8 file(s)")->required();
  cmd->add_option("--out", args->out_dir, "Output directory (HF XForMaskedLM checkpoint)")
      ->required();
  cmd->add_option("--vocab", args->recipe.vocab, "WordPiece vocab.txt (uncased)")
      ->capture_default_str();
  cmd->add_option("--init-checkpoint", args->recipe.init_checkpoint,
                  "Continue from this `kprune pretrain` output (encoder and MLM head), e.g. a "
                  "further phase on longer rows; the shape options then do not apply");
  add_random_init_shape_options(cmd, args->recipe);
  cmd->add_option("--seq-len", args->recipe.seq_len, "Packed sequence length")
      ->capture_default_str();
  cmd->add_option("--embedding-init", args->recipe.embedding_init,
                  "random, or ppmi-svd: word embeddings from the corpus's co-occurrence "
                  "statistics before masked language modelling")
      ->check(CLI::IsMember({"random", "ppmi-svd"}))
      ->capture_default_str();
  cmd->add_option("--ppmi-window", args->recipe.ppmi_window,
                  "ppmi-svd: co-occurrence window (pieces on each side)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--steps", o.max_steps, "Optimizer steps")->capture_default_str();
  cmd->add_option("--batch-size", o.batch_size, "Sequences per step")->capture_default_str();
  cmd->add_option("--lr", o.learning_rate, "Peak learning rate (AdamW)")->capture_default_str();
  cmd->add_option("--warmup", o.warmup_ratio, "Warmup fraction of the steps")
      ->capture_default_str();
  cmd->add_option("--weight-decay", o.weight_decay, "AdamW weight decay")->capture_default_str();
  cmd->add_option("--max-grad-norm", o.max_grad_norm, "Gradient clipping norm (0: off)")
      ->capture_default_str();
  cmd->add_option("--seed", o.seed, "Random seed (init, order, masking, dropout)")
      ->capture_default_str();
  cmd->add_option("--save-every", o.save_every,
                  "Steps between resumable states (OUT/pretrain-state.pt)")
      ->capture_default_str();
  cmd->add_option("--stop-after", o.stop_after,
                  "Stop at this step (build in parts; rerun to resume)");
  cmd->add_option("--device", args->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  add_precision_option(cmd, args->precision);
  cmd->add_option("--threads", args->threads, "Intra-op threads (0: all cores)")
      ->capture_default_str();
  cmd->callback([args] { run_pretrain(*args); });
}

}  // namespace kprune::cli
