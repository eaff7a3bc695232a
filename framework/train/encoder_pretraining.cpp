#include "framework/train/encoder_pretraining.h"

#include <fmt/format.h>

#include <filesystem>
#include <sstream>
#include <unordered_set>

#include "framework/model/checkpoint.h"
#include "framework/model/encoder.h"
#include "framework/model/mlm_head.h"
#include "framework/model/random_config.h"
#include "framework/model/safetensors.h"
#include "framework/tasks/task.h"
#include "framework/text/wordpiece_tokenizer.h"
#include "framework/train/embedding_init.h"
#include "framework/train/pretrain_corpus.h"
#include "framework/util/error.h"
#include "framework/util/files.h"
#include "framework/util/sha256.h"
#include "framework/util/timer.h"
#include "framework/util/version.h"

namespace kprune {
namespace {

namespace fs = std::filesystem;

}  // namespace

PretrainRun pretrain_encoder(const PretrainRecipe& args, const std::string& out_dir,
                             std::ostream& log) {
  Stopwatch clock;
  const bool from_checkpoint = !args.init_checkpoint.empty();
  if (from_checkpoint && args.embedding_init != "random") {
    fail(
        "pretraining: embedding_init '{}' would replace the trained word embeddings of the init "
        "checkpoint {}; give one of the two",
        args.embedding_init, args.init_checkpoint);
  }
  if (args.embedding_init != "random" && args.embedding_init != "ppmi-svd") {
    fail("pretraining: embedding_init '{}' is not one of random, ppmi-svd", args.embedding_init);
  }
  const auto tokenizer = WordPieceTokenizer::from_vocab_file(args.vocab, /*lower_case=*/true);
  const PretrainCorpus corpus = read_pretrain_corpus(args.corpus, tokenizer);
  const torch::Tensor sequences =
      pack_sequences(corpus.stream, args.seq_len, tokenizer.cls_id(), tokenizer.sep_id());
  int64_t corpus_tokens = 0;
  for (const CorpusFile& file : corpus.files) corpus_tokens += file.tokens;
  log << fmt::format("[pretrain] {} file(s), {} tokens, {} sequences of {}\n", corpus.files.size(),
                     corpus_tokens, sequences.size(0), args.seq_len);
  log.flush();

  std::shared_ptr<EncoderModel> encoder;
  if (from_checkpoint) {
    if (!is_pretrained_encoder_checkpoint(args.init_checkpoint)) {
      fail(
          "pretraining: {} is not a pretrained encoder checkpoint (its config.json names no "
          "XForMaskedLM architecture); continue from what `kprune pretrain` wrote",
          args.init_checkpoint);
    }
    encoder = load_encoder_checkpoint(args.init_checkpoint, HeadKind::classification, 2,
                                      args.options.seed);
  } else {
    encoder = EncoderModel::random(
        EncoderConfig::from_json(
            random_encoder_config({args.model_type, args.layers, args.hidden, args.heads, args.ffn,
                                   args.max_position, std::nullopt},
                                  tokenizer.vocab_size()),
            "pretrain"),
        args.options.seed);
  }
  const EncoderConfig& config = encoder->config();
  if (config.vocab_size != tokenizer.vocab_size()) {
    fail("pretraining: {} has a vocabulary of {} pieces, {} has {}", args.init_checkpoint,
         config.vocab_size, args.vocab, tokenizer.vocab_size());
  }
  if (args.seq_len > config.max_position_embeddings) {
    fail("pretraining: seq_len {} exceeds the model's {} positions", args.seq_len,
         config.max_position_embeddings);
  }
  MlmHead head(config, args.options.seed + 1);
  nlohmann::json init;  // the checkpoint this phase continues, and how it was made
  if (from_checkpoint) {
    const std::string weights = args.init_checkpoint + "/model.safetensors";
    head.load_hf_state_dict(load_safetensors(weights), weights);
    init = {{"checkpoint", args.init_checkpoint}, {"sha256", sha256_file(weights)}};
    const std::string previous = args.init_checkpoint + "/pretraining.json";
    if (fs::exists(previous)) init["pretraining"] = read_json_file(previous);
  }
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
                           {"precision", precision_name(o.precision)},
                           {"token_types", "off (all 0)"},
                           {"next_sentence_prediction", false}};
  if (from_checkpoint) {
    recipe["init_checkpoint_sha256"] = init["sha256"];
  } else {
    recipe["embedding_init"] = args.embedding_init;
    if (args.embedding_init == "ppmi-svd") recipe["ppmi_window"] = args.ppmi_window;
  }
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

  fs::create_directories(out_dir);
  const std::string state_path = out_dir + "/pretrain-state.pt";
  // A resumed run loads its weights from the state; the initialisation matters at step 0 only.
  if (args.embedding_init == "ppmi-svd" && !fs::exists(state_path)) {
    Stopwatch svd_clock;
    PpmiSvdOptions ppmi;
    ppmi.window = args.ppmi_window;
    ppmi.seed = o.seed;
    const CorpusEmbeddings init =
        ppmi_svd_embeddings(corpus.stream, tokenizer.sep_id(), config.vocab_size,
                            config.hidden_size, config.initializer_range, ppmi);
    torch::NoGradGuard no_grad;
    torch::Tensor weight = encoder->parameter("word_embeddings");
    weight.index_put_({init.seen}, init.embeddings.index({init.seen}).to(weight.dtype()));
    log << fmt::format(
        "[pretrain] word embeddings from the PPMI-SVD of the corpus ({} of {} "
        "pieces seen, window {}): {:.1f} s\n",
        init.seen.sum().item<int64_t>(), config.vocab_size, args.ppmi_window, svd_clock.seconds());
    log.flush();
  }
  const PretrainResult result =
      pretrain(*encoder, head, sequences, masking, args.options, state_path, fingerprint.dump());

  // One entry per run, so that a build in several parts shows its total cost.
  const std::string record_path = out_dir + "/pretraining.json";
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
  double phases_wall = total_wall;
  if (init.contains("pretraining")) {
    const nlohmann::json& before = init["pretraining"];
    phases_wall += before.value("total_wall_time_s", before.value("wall_time_s", 0.0));
  }
  nlohmann::json record = {
      {"code_version", code_version()},
      {"recipe", recipe},
      {"corpus", {{"files", files}, {"tokens", corpus_tokens}, {"sequences", sequences.size(0)}}},
      {"vocab", vocab},
      {"steps", result.steps},
      {"finished", result.finished},
      {"tokens_seen", result.steps * o.batch_size * args.seq_len},
      {"final_mlm_loss", result.final_loss},
      {"wall_time_s", total_wall},
      {"total_wall_time_s", phases_wall},
      {"runs", runs}};
  if (from_checkpoint) record["init"] = init;
  save_mlm_checkpoint(*encoder, head, out_dir);
  fs::copy_file(args.vocab, out_dir + "/vocab.txt", fs::copy_options::overwrite_existing);
  write_file_atomic(out_dir + "/tokenizer_config.json",
                    nlohmann::json{{"do_lower_case", true},
                                   {"model_max_length", args.max_position},
                                   {"tokenizer_class", "BertTokenizer"}}
                        .dump(2));
  write_file_atomic(record_path, record.dump(2));
  return {result, record};
}

nlohmann::json write_pretrain_corpus(
    const std::string& out, const std::vector<std::string>& wikitext,
    const std::vector<std::pair<std::string, std::string>>& task_dirs) {
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
  for (const std::string& path : wikitext) {
    std::istringstream input(read_file(path));
    std::vector<std::string> lines;
    for (std::string line; std::getline(input, line);) {
      if (auto cleaned = clean_wikitext_line(line)) lines.push_back(*cleaned);
    }
    add_source(path, lines);
  }
  for (const auto& [name, data_dir] : task_dirs) {
    const TaskSpec& task = find_task(name);
    const SplitData split = read_split(task, data_dir, task.train_split);
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
  write_file_atomic(out, text);
  return sources;
}

}  // namespace kprune
