#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <sstream>
#include <tuple>

#include "framework/model/checkpoint.h"
#include "framework/model/encoder.h"
#include "framework/model/mlm_head.h"
#include "framework/model/safetensors.h"
#include "framework/tasks/dev_split.h"
#include "framework/tasks/synthetic.h"
#include "framework/tasks/task.h"
#include "framework/text/wordpiece_tokenizer.h"
#include "framework/train/embedding_init.h"
#include "framework/train/encoder_pretraining.h"
#include "framework/train/init_checkpoint.h"
#include "framework/train/mlm_masking.h"
#include "framework/train/pretrain.h"
#include "framework/train/pretrain_corpus.h"
#include "framework/train/teacher.h"
#include "framework/util/error.h"
#include "framework/util/files.h"
#include "framework/util/sha256.h"
#include "tests/test_support.h"

namespace kprune {
namespace {

// Runs `body` and expects a kprune::Error whose message contains `needle`.
template <typename Body>
void expect_error(Body body, const std::string& needle) {
  try {
    body();
    ADD_FAILURE() << "expected an error containing: " << needle;
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(needle), std::string::npos) << error.what();
  }
}

// ids [64, 128]: [CLS] at 0, [SEP] last, the last 8 positions of every other row padding.
TEST(MlmMasking, SelectsFifteenPercentSplitEightyTenTenAndNeverSpecials) {
  constexpr int64_t kPad = 0, kCls = 2, kSep = 3, kMask = 4, kVocab = 1000;
  torch::manual_seed(0);
  torch::Tensor ids = torch::randint(5, kVocab, {64, 128}, torch::kInt64);
  ids.select(1, 0).fill_(kCls);
  ids.select(1, 127).fill_(kSep);
  for (int64_t row = 0; row < 64; row += 2) ids[row].slice(0, 120).fill_(kPad);
  const torch::Tensor special = (ids == kPad) | (ids == kCls) | (ids == kSep);
  MlmMasking masking;
  masking.mask_id = kMask;
  masking.vocab_size = kVocab;
  masking.special_ids = {kCls, kSep, kPad};

  const MaskedTokens out = mask_tokens(ids, masking, 7);
  const torch::Tensor selected = out.labels != -100;
  EXPECT_EQ((selected & special).sum().item<int64_t>(), 0);
  EXPECT_TRUE(torch::equal(out.input_ids.masked_select(special), ids.masked_select(special)));
  EXPECT_TRUE(torch::equal(out.labels.masked_select(selected), ids.masked_select(selected)));
  EXPECT_TRUE(torch::equal(out.input_ids.masked_select(~selected), ids.masked_select(~selected)));

  const double ordinary = (~special).sum().item<double>();  // 7936 tokens
  const double chosen = selected.sum().item<double>();
  const double masked = (selected & (out.input_ids == kMask)).sum().item<double>();
  const double kept = (selected & (out.input_ids == ids)).sum().item<double>();
  const double random = chosen - masked - kept;
  // Binomial standard deviations: 0.004 for the selection, about 0.012 / 0.009 for the split.
  EXPECT_NEAR(chosen / ordinary, 0.15, 0.015);
  EXPECT_NEAR(masked / chosen, 0.80, 0.04);
  EXPECT_NEAR(random / chosen, 0.10, 0.03);
  EXPECT_NEAR(kept / chosen, 0.10, 0.03);

  EXPECT_TRUE(torch::equal(mask_tokens(ids, masking, 7).input_ids, out.input_ids));
  EXPECT_FALSE(torch::equal(mask_tokens(ids, masking, 8).labels, out.labels));
}

TEST(PretrainCorpus, CleansWikiTextLines) {
  EXPECT_EQ(clean_wikitext_line(" = Valkyria Chronicles III = \n"), std::nullopt);
  EXPECT_EQ(clean_wikitext_line(" = = Gameplay = = "), std::nullopt);
  EXPECT_EQ(clean_wikitext_line("   "), std::nullopt);
  EXPECT_EQ(clean_wikitext_line(" a well @-@ known 1 @,@ 000 @.@ 5 km <unk> ride . "),
            std::optional<std::string>("a well-known 1,000.5 km [UNK] ride ."));
}

TEST(PretrainCorpus, PacksTheStreamIntoFullRows) {
  const std::vector<int64_t> stream = {10, 11, 12, 13, 14, 15, 16};
  const torch::Tensor rows = pack_sequences(stream, 5, 2, 3);  // 3 body tokens per row
  const torch::Tensor expected = torch::tensor({2, 10, 11, 12, 3, 2, 13, 14, 15, 3}).view({2, 5});
  EXPECT_TRUE(torch::equal(rows, expected));
}

// A vocabulary and a corpus with structure a tiny model can learn: "w<k> w<k+1> w<k+2> ...".
struct TinyCorpus {
  std::string dir, vocab, text;
};

TinyCorpus write_tiny_corpus(int64_t lines) {
  TinyCorpus corpus;
  corpus.dir = testing::temp_dir("pretrain");
  std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
  for (int w = 0; w < 24; ++w) vocab += "w" + std::to_string(w) + "\n";
  corpus.vocab = corpus.dir + "/vocab.txt";
  write_file_atomic(corpus.vocab, vocab);
  std::mt19937_64 rng(3);
  std::string text;
  for (int64_t i = 0; i < lines; ++i) {
    const int64_t start = static_cast<int64_t>(rng() % 24);
    for (int64_t k = 0; k < 10; ++k) text += "w" + std::to_string((start + k) % 24) + " ";
    text += "\n";
  }
  corpus.text = corpus.dir + "/corpus.txt";
  write_file_atomic(corpus.text, text);
  return corpus;
}

EncoderConfig tiny_encoder_config(const std::string& model_type, int64_t vocab_size) {
  nlohmann::json json = {
      {"model_type", model_type}, {"vocab_size", vocab_size}, {"max_position_embeddings", 32}};
  if (model_type == "bert") {
    json.update({{"hidden_size", 32},
                 {"num_hidden_layers", 2},
                 {"num_attention_heads", 2},
                 {"intermediate_size", 64}});
  } else {
    json.update({{"dim", 32}, {"n_layers", 2}, {"n_heads", 2}, {"hidden_dim", 64}});
  }
  return EncoderConfig::from_json(json, "tiny");
}

struct TinySetup {
  WordPieceTokenizer tokenizer;
  torch::Tensor sequences;  // [N, 16]
  MlmMasking masking;
};

TinySetup tiny_setup(const TinyCorpus& corpus) {
  auto tokenizer = WordPieceTokenizer::from_vocab_file(corpus.vocab);
  const PretrainCorpus text = read_pretrain_corpus({corpus.text}, tokenizer);
  MlmMasking masking;
  masking.mask_id = tokenizer.mask_id();
  masking.vocab_size = tokenizer.vocab_size();
  masking.special_ids = {tokenizer.cls_id(), tokenizer.sep_id(), tokenizer.pad_id()};
  return {tokenizer, pack_sequences(text.stream, 16, tokenizer.cls_id(), tokenizer.sep_id()),
          masking};
}

void expect_a_few_steps_reduce_the_mlm_loss(Precision precision) {
  torch::set_num_threads(1);
  const TinyCorpus corpus = write_tiny_corpus(400);
  TinySetup setup = tiny_setup(corpus);
  const EncoderConfig config = tiny_encoder_config("bert", setup.tokenizer.vocab_size());
  auto encoder = EncoderModel::random(config, 1);
  MlmHead head(config, 2);
  const MaskedTokens probe = mask_tokens(setup.sequences.slice(0, 0, 64), setup.masking, 99);
  auto probe_loss = [&] {
    torch::NoGradGuard no_grad;
    encoder->eval();
    head.eval();
    return mlm_loss(*encoder, head, probe.input_ids, probe.labels).item<double>();
  };
  const double before = probe_loss();
  EXPECT_NEAR(before, std::log(29.0), 0.5);  // about uniform over the vocabulary at init

  PretrainOptions options;
  options.batch_size = 16;
  options.max_steps = 600;
  options.learning_rate = 2e-3;
  options.save_every = 0;
  options.precision = precision;
  const PretrainResult result = pretrain(*encoder, head, setup.sequences, setup.masking, options,
                                         corpus.dir + "/state.pt", "tiny");
  EXPECT_TRUE(result.finished);
  EXPECT_EQ(result.steps, 600);
  // Below the unigram entropy ln 24 = 3.18 of the words: the model predicts masked words from
  // their neighbours (the successor rule), not only from word frequencies. Measured: 2.60.
  EXPECT_LT(probe_loss(), std::log(24.0) - 0.3);
  EXPECT_LT(result.final_loss, std::log(24.0) - 0.3);
  // Mixed precision or not, the weights stay fp32.
  for (const auto& item : encoder->named_parameters()) {
    EXPECT_EQ(item.value().scalar_type(), torch::kFloat) << item.key();
  }
}

TEST(Pretrain, AFewStepsReduceTheMlmLoss) {
  expect_a_few_steps_reduce_the_mlm_loss(Precision::fp32);
}

TEST(Pretrain, AFewBf16StepsReduceTheMlmLoss) {
  expect_a_few_steps_reduce_the_mlm_loss(Precision::bf16);
}

void expect_resumed_run_ends_with_the_uninterrupted_weights(Precision precision) {
  torch::set_num_threads(1);
  const TinyCorpus corpus = write_tiny_corpus(100);
  TinySetup setup = tiny_setup(corpus);
  const EncoderConfig config = tiny_encoder_config("distilbert", setup.tokenizer.vocab_size());
  PretrainOptions options;
  options.precision = precision;
  options.batch_size = 8;
  options.max_steps = 20;  // more than one epoch of the 62 rows: the order is reshuffled
  options.save_every = 5;
  options.seed = 4;
  auto train = [&](const std::string& state, int64_t stop_after) {
    auto encoder = EncoderModel::random(config, 1);
    auto head = std::make_shared<MlmHead>(config, 2);
    options.stop_after = stop_after;
    const PretrainResult result =
        pretrain(*encoder, *head, setup.sequences, setup.masking, options, state, "recipe");
    return std::make_tuple(encoder, head, result);
  };
  const auto [whole, whole_head, whole_result] = train(corpus.dir + "/a.pt", 0);
  const auto [part, part_head, part_result] = train(corpus.dir + "/b.pt", 12);
  EXPECT_EQ(part_result.steps, 12);
  EXPECT_FALSE(part_result.finished);
  const auto [resumed, resumed_head, resumed_result] = train(corpus.dir + "/b.pt", 0);
  EXPECT_EQ(resumed_result.resumed_from, 12);
  EXPECT_TRUE(resumed_result.finished);
  EXPECT_DOUBLE_EQ(resumed_result.final_loss, whole_result.final_loss);
  const auto expected = whole->named_parameters();
  for (const auto& item : resumed->named_parameters()) {
    EXPECT_TRUE(torch::equal(item.value(), expected[item.key()])) << item.key();
  }
  const auto expected_head = whole_head->named_parameters();
  for (const auto& item : resumed_head->named_parameters()) {
    EXPECT_TRUE(torch::equal(item.value(), expected_head[item.key()])) << item.key();
  }
  // Not the same as the stopped run: the resumed one did train on.
  EXPECT_FALSE(
      torch::equal(part->parameter("word_embeddings"), whole->parameter("word_embeddings")));

  // A state from another recipe is refused, naming the file.
  auto encoder = EncoderModel::random(config, 1);
  MlmHead head(config, 2);
  expect_error(
      [&] {
        pretrain(*encoder, head, setup.sequences, setup.masking, options, corpus.dir + "/b.pt",
                 "another recipe");
      },
      "b.pt belongs to another recipe");
}

TEST(Pretrain, AResumedRunEndsWithTheWeightsOfAnUninterruptedOne) {
  expect_resumed_run_ends_with_the_uninterrupted_weights(Precision::fp32);
}

TEST(Pretrain, AResumedBf16RunEndsWithTheWeightsOfAnUninterruptedOne) {
  expect_resumed_run_ends_with_the_uninterrupted_weights(Precision::bf16);
}

TEST(Pretrain, RejectsBadInput) {
  const TinyCorpus corpus = write_tiny_corpus(3);
  const auto tokenizer = WordPieceTokenizer::from_vocab_file(corpus.vocab);
  const std::string empty = corpus.dir + "/empty.txt";
  write_file_atomic(empty, "\n  \n\n");
  expect_error([&] { read_pretrain_corpus({empty}, tokenizer); }, "corpus is empty");
  const std::string invalid = corpus.dir + "/invalid.txt";
  write_file_atomic(invalid, "w1 w2\nw3 \xC3\x28 w4\n");
  expect_error([&] { read_pretrain_corpus({invalid}, tokenizer); }, "invalid.txt:2: invalid UTF-8");
  // 3 lines of 10 words fill 2 rows of 16: fewer than a batch of 8.
  const PretrainCorpus small = read_pretrain_corpus({corpus.text}, tokenizer);
  const torch::Tensor rows = pack_sequences(small.stream, 16, 2, 3);
  const EncoderConfig config = tiny_encoder_config("bert", tokenizer.vocab_size());
  auto encoder = EncoderModel::random(config, 1);
  MlmHead head(config, 2);
  MlmMasking masking;
  masking.mask_id = 4;
  masking.vocab_size = tokenizer.vocab_size();
  PretrainOptions options;
  options.batch_size = 8;
  expect_error(
      [&] { pretrain(*encoder, head, rows, masking, options, corpus.dir + "/state.pt", "x"); },
      "fewer than one batch of 8");
}

// The MLM checkpoint is in HF layout (tied decoder not stored), and fine-tuning starts from its
// encoder with a fresh task head.
TEST(MlmCheckpoint, LoadsIntoFinetuneWithTheMlmHeadDropped) {
  for (const std::string model_type : {"bert", "distilbert"}) {
    const EncoderConfig config = tiny_encoder_config(model_type, 40);
    auto encoder = EncoderModel::random(config, 1);
    MlmHead head(config, 2);
    const std::string dir = testing::temp_dir("mlm-ckpt");
    save_mlm_checkpoint(*encoder, head, dir);

    const auto tensors = load_safetensors(dir + "/model.safetensors");
    const std::vector<std::string> mlm_names =
        model_type == "bert"
            ? std::vector<std::string>{"cls.predictions.transform.dense.weight",
                                       "cls.predictions.transform.LayerNorm.bias",
                                       "cls.predictions.bias"}
            : std::vector<std::string>{"vocab_transform.weight", "vocab_layer_norm.weight",
                                       "vocab_projector.bias"};
    for (const auto& name : mlm_names) EXPECT_EQ(tensors.count(name), 1u) << name;
    for (const auto& [name, tensor] : tensors) {
      EXPECT_EQ(name.find("classifier"), std::string::npos) << name;
      EXPECT_EQ(name.find("pooler"), std::string::npos) << name;
      EXPECT_EQ(name.find("decoder"), std::string::npos) << name;
    }
    EXPECT_TRUE(is_pretrained_encoder_checkpoint(dir));
    EXPECT_EQ(read_json_file(dir + "/config.json").at("architectures")[0],
              model_type == "bert" ? "BertForMaskedLM" : "DistilBertForMaskedLM");

    const auto model = load_init_checkpoint(dir, find_task("stsb"), 3);
    EXPECT_EQ(model->config().head_kind, HeadKind::regression);
    EXPECT_EQ(model->parameter("output_weight").sizes(), (std::vector<int64_t>{1, 32}));
    EXPECT_GT(model->parameter("output_weight").abs().sum().item<double>(), 0.0);
    const auto expected = encoder->named_parameters();
    for (const auto& item : model->named_parameters()) {
      if (item.key().rfind("pre_classifier", 0) == 0 || item.key().rfind("output_", 0) == 0) {
        continue;
      }
      EXPECT_TRUE(torch::equal(item.value(), expected[item.key()])) << item.key();
    }

    // A fine-tuned teacher is not re-headed: its head must fit the task.
    const std::string teacher = testing::temp_dir("teacher");
    save_checkpoint(*model, teacher);
    EXPECT_FALSE(is_pretrained_encoder_checkpoint(teacher));
    EXPECT_TRUE(torch::equal(
        load_init_checkpoint(teacher, find_task("stsb"), 0)->parameter("output_weight"),
        model->parameter("output_weight")));
    EXPECT_THROW(load_init_checkpoint(teacher, find_task("sst2"), 0), Error);
  }
}

PretrainRecipe tiny_pretrain_recipe(const TinyCorpus& corpus) {
  PretrainRecipe recipe;
  recipe.corpus = {corpus.text};
  recipe.vocab = corpus.vocab;
  recipe.layers = 2;
  recipe.hidden = 32;
  recipe.heads = 2;
  recipe.ffn = 64;
  recipe.max_position = 32;
  recipe.seq_len = 16;
  recipe.options.batch_size = 8;
  return recipe;
}

// The path `kprune pretrain` / the sweep's pretrain job and then the finetune job take.
TEST(PretrainEncoder, WritesACheckpointThatATeacherStartsFrom) {
  const TinyCorpus corpus = write_tiny_corpus(200);
  PretrainRecipe recipe = tiny_pretrain_recipe(corpus);
  recipe.options.max_steps = 4;
  const std::string encoder = testing::temp_dir("encoder");
  std::ostringstream log;
  const PretrainRun run = pretrain_encoder(recipe, encoder, log);
  EXPECT_TRUE(run.result.finished);
  EXPECT_TRUE(is_pretrained_encoder_checkpoint(encoder));
  EXPECT_EQ(read_json_file(encoder + "/pretraining.json").at("steps"), 4);
  EXPECT_TRUE(std::filesystem::exists(encoder + "/vocab.txt"));

  const std::string data = testing::temp_dir("synthetic");
  write_synthetic_task(data, 0, 64, 16);
  TeacherRecipe teacher;
  teacher.task = "synthetic";
  teacher.data_dir = data;
  teacher.init_checkpoint = encoder;
  teacher.options.max_steps = 2;
  teacher.options.batch_size = 8;
  teacher.options.eval_every = 2;
  const std::string out = testing::temp_dir("teacher");
  train_teacher(teacher, out, log);
  EXPECT_EQ(read_json_file(out + "/training.json").at("init"), encoder);
  const auto model = load_checkpoint(out, torch::kCPU);
  EXPECT_EQ(model->config().num_labels, find_task("synthetic").num_labels);
  EXPECT_FALSE(is_pretrained_encoder_checkpoint(out));
}

// With a learning rate of 0 the checkpoint holds the initialisation itself.
TEST(PretrainEncoder, PpmiSvdInitialisesTheWordEmbeddingsOfPiecesTheCorpusHolds) {
  const TinyCorpus corpus = write_tiny_corpus(200);
  PretrainRecipe recipe = tiny_pretrain_recipe(corpus);  // hidden 32 > 29 pieces: zero columns
  recipe.embedding_init = "ppmi-svd";
  recipe.ppmi_window = 3;
  recipe.options.max_steps = 1;
  recipe.options.learning_rate = 0;
  recipe.options.seed = 5;
  const std::string dir = testing::temp_dir("ppmi-encoder");
  std::ostringstream log;
  pretrain_encoder(recipe, dir, log);
  EXPECT_NE(log.str().find("PPMI-SVD"), std::string::npos) << log.str();
  const nlohmann::json record = read_json_file(dir + "/pretraining.json");
  EXPECT_EQ(record.at("recipe").at("embedding_init"), "ppmi-svd");
  EXPECT_EQ(record.at("recipe").at("ppmi_window"), 3);

  const auto tokenizer = WordPieceTokenizer::from_vocab_file(corpus.vocab, true);
  PpmiSvdOptions options;
  options.window = 3;
  options.seed = 5;
  const CorpusEmbeddings expected =
      ppmi_svd_embeddings(read_pretrain_corpus({corpus.text}, tokenizer).stream, tokenizer.sep_id(),
                          tokenizer.vocab_size(), 32, 0.02, options);
  const torch::Tensor saved =
      load_safetensors(dir + "/model.safetensors").at("bert.embeddings.word_embeddings.weight");
  const auto random_init =
      EncoderModel::random(EncoderConfig::from_json(read_json_file(dir + "/config.json"), dir), 5);
  const torch::Tensor seen = expected.seen;
  EXPECT_EQ(seen.sum().item<int64_t>(), 24);  // w0..w23; no special piece is a corpus word
  EXPECT_TRUE(torch::allclose(saved.index({seen}), expected.embeddings.index({seen}), 0, 1e-6));
  EXPECT_TRUE(torch::equal(saved.index({seen.logical_not()}),
                           random_init->parameter("word_embeddings").index({seen.logical_not()})));

  // The state of a random-init run is not resumed into a ppmi-svd run.
  recipe.embedding_init = "random";
  expect_error([&] { pretrain_encoder(recipe, dir, log); }, "belongs to another recipe");
  recipe.embedding_init = "glove";
  expect_error([&] { pretrain_encoder(recipe, dir, log); }, "'glove' is not one of");
}

// A second phase (BERT's recipe: most steps on short rows, then longer ones) starts from the
// first phase's encoder and MLM head; at a learning rate of 0 it writes them back unchanged.
TEST(PretrainEncoder, ASecondPhaseContinuesFromTheFirstOnLongerRows) {
  const TinyCorpus corpus = write_tiny_corpus(200);
  PretrainRecipe first = tiny_pretrain_recipe(corpus);
  first.options.max_steps = 4;
  const std::string phase1 = testing::temp_dir("phase1");
  std::ostringstream log;
  pretrain_encoder(first, phase1, log);
  const nlohmann::json phase1_record = read_json_file(phase1 + "/pretraining.json");

  PretrainRecipe second = tiny_pretrain_recipe(corpus);
  second.init_checkpoint = phase1;
  second.layers = 3;  // random-init shape: the checkpoint's applies
  second.seq_len = 32;
  second.options.max_steps = 2;
  second.options.learning_rate = 0;
  const std::string phase2 = testing::temp_dir("phase2");
  pretrain_encoder(second, phase2, log);

  const auto before = load_safetensors(phase1 + "/model.safetensors");
  const auto after = load_safetensors(phase2 + "/model.safetensors");
  ASSERT_EQ(after.size(), before.size());
  for (const auto& [name, tensor] : before) {
    ASSERT_TRUE(after.count(name)) << name;
    EXPECT_TRUE(torch::equal(after.at(name), tensor)) << name;  // MLM head included
  }
  EXPECT_EQ(read_json_file(phase2 + "/config.json").at("num_hidden_layers"), 2);
  const nlohmann::json record = read_json_file(phase2 + "/pretraining.json");
  EXPECT_EQ(record.at("recipe").at("seq_len"), 32);
  EXPECT_FALSE(record.at("recipe").contains("embedding_init"));
  const std::string phase1_sha = sha256_file(phase1 + "/model.safetensors");
  EXPECT_EQ(record.at("recipe").at("init_checkpoint_sha256"), phase1_sha);
  EXPECT_EQ(record.at("init").at("checkpoint"), phase1);
  EXPECT_EQ(record.at("init").at("pretraining"), phase1_record);
  EXPECT_DOUBLE_EQ(
      record.at("total_wall_time_s").get<double>(),
      record.at("wall_time_s").get<double>() + phase1_record.at("total_wall_time_s").get<double>());

  // Its saved state is not resumed from another first phase.
  PretrainRecipe other_first = first;
  other_first.options.seed = 1;
  const std::string other_phase1 = testing::temp_dir("other-phase1");
  pretrain_encoder(other_first, other_phase1, log);
  second.init_checkpoint = other_phase1;
  expect_error([&] { pretrain_encoder(second, phase2, log); }, "belongs to another recipe");

  const std::string fresh = testing::temp_dir("phase2-bad");
  second.init_checkpoint = phase1;
  second.embedding_init = "ppmi-svd";
  expect_error([&] { pretrain_encoder(second, fresh, log); }, "would replace the trained word");
  second.embedding_init = "random";
  second.seq_len = 64;
  expect_error([&] { pretrain_encoder(second, fresh, log); }, "exceeds the model's 32 positions");
  second.seq_len = 16;
  const std::string bigger_vocab = fresh + "/vocab.txt";
  write_file_atomic(bigger_vocab, read_file(corpus.vocab) + "w24\n");
  second.vocab = bigger_vocab;
  expect_error([&] { pretrain_encoder(second, fresh, log); }, "has a vocabulary of 29 pieces");
  second.vocab = corpus.vocab;
  const std::string teacher = testing::temp_dir("not-an-encoder");
  save_checkpoint(*load_init_checkpoint(phase1, find_task("sst2"), 0), teacher);
  second.init_checkpoint = teacher;
  expect_error([&] { pretrain_encoder(second, fresh, log); }, "is not a pretrained encoder");
}

TEST(MlmHead, NamesTheMissingTensorOfAStateDict) {
  const EncoderConfig config = tiny_encoder_config("distilbert", 29);
  MlmHead head(config, 0);
  auto tensors = head.hf_state_dict();
  tensors.erase("vocab_layer_norm.weight");
  expect_error([&] { head.load_hf_state_dict(tensors, "x.safetensors"); },
               "x.safetensors: no MLM-head tensor 'vocab_layer_norm.weight'");
  tensors = head.hf_state_dict();
  tensors["vocab_projector.bias"] = torch::zeros({3});
  expect_error([&] { head.load_hf_state_dict(tensors, "x.safetensors"); }, "expected [29]");
}

TEST(DevSplit, IsDeterministicPerRowAndCoversEveryRow) {
  std::string tsv;
  for (int i = 0; i < 3000; ++i) tsv += std::to_string(i * 7) + "\tq\tp\t1\n";
  const TsvSplit split = split_tsv_by_id(tsv, 100, false);
  EXPECT_EQ(split.train_rows + split.dev_rows, 3000);
  EXPECT_NEAR(static_cast<double>(split.dev_rows), 300.0, 60.0);
  // The same rows in reverse order: the same rows go to dev.
  std::vector<std::string> lines;
  std::istringstream input(tsv);
  for (std::string line; std::getline(input, line);) lines.push_back(line);
  std::reverse(lines.begin(), lines.end());
  std::string reversed;
  for (const auto& line : lines) reversed += line + "\n";
  const TsvSplit again = split_tsv_by_id(reversed, 100, false);
  EXPECT_EQ(again.dev_rows, split.dev_rows);
  std::istringstream dev(split.dev);
  for (std::string line; std::getline(dev, line);) {
    EXPECT_NE(again.dev.find(line + "\n"), std::string::npos) << line;
  }
}

TEST(DevSplit, SplitsTheSharedQqpSubset) {
  const std::string path = testing::shared_path("data/glue/QQP/train-subset-23497.tsv");
  const TsvSplit split = split_tsv_by_id(read_file(path), 100, false);
  EXPECT_EQ(split.train_rows + split.dev_rows, 23497);
  EXPECT_NEAR(static_cast<double>(split.dev_rows), 2350.0, 150.0);
  const std::string dir = testing::temp_dir("qqp-split");
  std::filesystem::create_directories(dir + "/QQP");
  write_file_atomic(dir + "/QQP/train.tsv", split.train);
  write_file_atomic(dir + "/QQP/dev.tsv", split.dev);
  const TaskSpec& qqp = find_task("qqp");
  const SplitData train = read_split(qqp, dir, "train");
  const SplitData dev = read_split(qqp, dir, "dev");
  // The one malformed row of the GLUE file is skipped by the reader, wherever it went.
  EXPECT_EQ(static_cast<int64_t>(train.examples.size() + dev.examples.size()), 23496);
  EXPECT_EQ(static_cast<int64_t>(dev.examples.size() + dev.skipped.size()), split.dev_rows);
}

}  // namespace
}  // namespace kprune
