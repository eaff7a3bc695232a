#pragma once
// A pretrained encoder checkpoint: the recipe, and the run that writes the directory (HF
// XForMaskedLM checkpoint, tokenizer files, pretraining.json), resuming an interrupted run.
// Shared by `kprune pretrain` and the sweep's pretrain job.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "framework/train/pretrain.h"

namespace kprune {

struct PretrainRecipe {
  std::vector<std::string> corpus;  // plain-text files, one document or sentence per line
  std::string vocab;                // WordPiece vocab.txt (uncased)
  // Continue from this `kprune pretrain` checkpoint (encoder and MLM head; a further phase, e.g.
  // on longer rows); empty: random init of the shape below, which a checkpoint overrides.
  std::string init_checkpoint;
  std::string model_type = "bert";  // bert or distilbert
  int64_t layers = 4, hidden = 256, heads = 4, ffn = 1024, max_position = 512;
  int64_t seq_len = 128;
  // "random" (BERT's normal init) or "ppmi-svd": word embeddings from the corpus's
  // co-occurrence statistics (embedding_init.h) before masked language modelling starts.
  std::string embedding_init = "random";
  int64_t ppmi_window = 5;
  PretrainOptions options;
};

struct PretrainRun {
  PretrainResult result;
  nlohmann::json record;  // what pretraining.json holds
};

// Pretrains (or resumes, from out_dir/pretrain-state.pt) and writes `out_dir`: the MLM
// checkpoint, vocab.txt, tokenizer_config.json and pretraining.json (recipe, corpus files with
// sha256 and token counts, one entry per run; from a checkpoint, that checkpoint's record under
// "init" and the phases' summed wall time as "total_wall_time_s"). Progress lines go to `log`.
PretrainRun pretrain_encoder(const PretrainRecipe& recipe, const std::string& out_dir,
                             std::ostream& log);

// Writes the pretraining text (atomically): cleaned WikiText lines, then the train sentences
// (never dev) of each (task, data directory), one per line, exact duplicates dropped. Returns
// the sources (path, sha256, kept lines).
nlohmann::json write_pretrain_corpus(
    const std::string& out, const std::vector<std::string>& wikitext,
    const std::vector<std::pair<std::string, std::string>>& task_dirs);

}  // namespace kprune
