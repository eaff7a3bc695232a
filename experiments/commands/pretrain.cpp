// kprune pretrain: masked-language-model pretraining of a BERT or DistilBERT encoder on plain
// text; writes an HF XForMaskedLM checkpoint that `finetune --init-checkpoint` starts from.
#include "framework/train/pretrain.h"

#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "experiments/commands/commands.h"
#include "framework/model/device.h"
#include "framework/model/encoder.h"
#include "framework/model/mlm_head.h"
#include "framework/text/wordpiece_tokenizer.h"
#include "framework/train/pretrain_corpus.h"
#include "framework/util/error.h"
#include "framework/util/files.h"
#include "framework/util/sha256.h"
#include "framework/util/timer.h"
#include "framework/util/version.h"

namespace kprune::cli {
namespace {

namespace fs = std::filesystem;

struct PretrainArgs {
  std::vector<std::string> corpus;
  std::string out_dir;
  std::string vocab = "../shared/data/vocab/bert-base-uncased-vocab.txt";
  std::string model_type = "bert";
  int64_t layers = 4, hidden = 256, heads = 4, ffn = 1024, max_position = 512;
  int64_t seq_len = 128;
  std::string device = "auto";
  int threads = 0;
  PretrainOptions options;
};

// HF config.json fields of the requested shape; dropouts are HF's defaults.
nlohmann::json model_config(const PretrainArgs& args, int64_t vocab_size) {
  nlohmann::json config = {{"model_type", args.model_type},
                           {"vocab_size", vocab_size},
                           {"max_position_embeddings", args.max_position},
                           {"initializer_range", 0.02},
                           {"pad_token_id", 0}};
  if (args.model_type == "bert") {
    config.update({{"hidden_size", args.hidden},
                   {"num_hidden_layers", args.layers},
                   {"num_attention_heads", args.heads},
                   {"intermediate_size", args.ffn},
                   {"type_vocab_size", 2}});
  } else if (args.model_type == "distilbert") {
    config.update({{"dim", args.hidden},
                   {"n_layers", args.layers},
                   {"n_heads", args.heads},
                   {"hidden_dim", args.ffn},
                   {"sinusoidal_pos_embds", false}});
  } else {
    fail("--model-type {}: expected bert or distilbert", args.model_type);
  }
  return config;
}

void run_pretrain(PretrainArgs args) {
  Stopwatch clock;
  configure_threads(args.threads);
  args.options.device = parse_device(args.device);
  if (args.seq_len > args.max_position) {
    fail("--seq-len {} exceeds --max-position {}", args.seq_len, args.max_position);
  }
  const auto tokenizer = WordPieceTokenizer::from_vocab_file(args.vocab, /*lower_case=*/true);
  const PretrainCorpus corpus = read_pretrain_corpus(args.corpus, tokenizer);
  const torch::Tensor sequences =
      pack_sequences(corpus.stream, args.seq_len, tokenizer.cls_id(), tokenizer.sep_id());
  int64_t corpus_tokens = 0;
  for (const CorpusFile& file : corpus.files) corpus_tokens += file.tokens;
  fmt::print(stderr, "[pretrain] {} file(s), {} tokens, {} sequences of {}\n", corpus.files.size(),
             corpus_tokens, sequences.size(0), args.seq_len);

  const EncoderConfig config =
      EncoderConfig::from_json(model_config(args, tokenizer.vocab_size()), "pretrain");
  auto encoder = EncoderModel::random(config, args.options.seed);
  MlmHead head(config, args.options.seed + 1);
  MlmMasking masking;
  masking.mask_id = tokenizer.mask_id();
  masking.vocab_size = tokenizer.vocab_size();
  masking.special_ids = {tokenizer.cls_id(), tokenizer.sep_id(), tokenizer.pad_id()};

  // Everything that decides the weights: a saved state from another recipe is refused.
  const PretrainOptions& o = args.options;
  nlohmann::json recipe = {{"objective", "mlm"},
                           {"select", masking.select},
                           {"mask", masking.mask},
                           {"random", masking.random},
                           {"seq_len", args.seq_len},
                           {"batch_size", o.batch_size},
                           {"max_steps", o.max_steps},
                           {"learning_rate", o.learning_rate},
                           {"warmup_ratio", o.warmup_ratio},
                           {"weight_decay", o.weight_decay},
                           {"max_grad_norm", o.max_grad_norm},
                           {"adam_epsilon", o.adam_epsilon},
                           {"seed", o.seed},
                           {"token_types", "off (all 0)"},
                           {"next_sentence_prediction", false}};
  nlohmann::json files = nlohmann::json::array();
  for (const CorpusFile& file : corpus.files) {
    files.push_back({{"path", file.path},
                     {"sha256", file.sha256},
                     {"lines", file.lines},
                     {"tokens", file.tokens}});
  }
  const nlohmann::json vocab = {{"path", args.vocab}, {"sha256", sha256_file(args.vocab)}};
  nlohmann::json fingerprint = {
      {"recipe", recipe}, {"model", config.to_json(true)}, {"vocab", vocab["sha256"]}};
  for (const CorpusFile& file : corpus.files) fingerprint["corpus"].push_back(file.sha256);

  fs::create_directories(args.out_dir);
  const PretrainResult result = pretrain(*encoder, head, sequences, masking, args.options,
                                         args.out_dir + "/pretrain-state.pt", fingerprint.dump());

  // One entry per run, so that a build in several parts shows its total cost.
  const std::string record_path = args.out_dir + "/pretraining.json";
  nlohmann::json runs = nlohmann::json::array();
  if (result.resumed_from > 0 && fs::exists(record_path))
    runs = read_json_file(record_path).at("runs");
  runs.push_back({{"from_step", result.resumed_from},
                  {"to_step", result.steps},
                  {"wall_time_s", clock.seconds()},
                  {"train_time_s", result.train_seconds},
                  {"tokens_per_second", result.tokens_per_second},
                  {"device", args.options.device.str()}});
  double total_wall = 0;
  for (const auto& run : runs) total_wall += run.at("wall_time_s").get<double>();
  const nlohmann::json record = {
      {"code_version", code_version()},
      {"recipe", recipe},
      {"corpus", {{"files", files}, {"tokens", corpus_tokens}, {"sequences", sequences.size(0)}}},
      {"vocab", vocab},
      {"steps", result.steps},
      {"finished", result.finished},
      {"tokens_seen", result.steps * o.batch_size * args.seq_len},
      {"final_mlm_loss", result.final_loss},
      {"wall_time_s", total_wall},
      {"runs", runs}};
  save_mlm_checkpoint(*encoder, head, args.out_dir);
  fs::copy_file(args.vocab, args.out_dir + "/vocab.txt", fs::copy_options::overwrite_existing);
  write_file_atomic(args.out_dir + "/tokenizer_config.json",
                    nlohmann::json{{"do_lower_case", true},
                                   {"model_max_length", args.max_position},
                                   {"tokenizer_class", "BertTokenizer"}}
                        .dump(2));
  write_file_atomic(record_path, record.dump(2));
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
  CLI::App* cmd = app.add_subcommand(
      "pretrain", "Masked-language-model pretraining on plain text (one document per line)");
  PretrainOptions& o = args->options;
  cmd->add_option("--corpus", args->corpus, "Plain-text UTF-8 file(s)")->required();
  cmd->add_option("--out", args->out_dir, "Output directory (HF XForMaskedLM checkpoint)")
      ->required();
  cmd->add_option("--vocab", args->vocab, "WordPiece vocab.txt (uncased)")->capture_default_str();
  cmd->add_option("--model-type", args->model_type, "bert or distilbert")->capture_default_str();
  cmd->add_option("--layers", args->layers, "Encoder layers")->capture_default_str();
  cmd->add_option("--hidden", args->hidden, "Hidden size")->capture_default_str();
  cmd->add_option("--heads", args->heads, "Attention heads")->capture_default_str();
  cmd->add_option("--ffn", args->ffn, "FFN intermediate size")->capture_default_str();
  cmd->add_option("--max-position", args->max_position, "Position embeddings")
      ->capture_default_str();
  cmd->add_option("--seq-len", args->seq_len, "Packed sequence length")->capture_default_str();
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
  cmd->add_option("--threads", args->threads, "Intra-op threads (0: all cores)")
      ->capture_default_str();
  cmd->callback([args] { run_pretrain(*args); });
}

}  // namespace kprune::cli
