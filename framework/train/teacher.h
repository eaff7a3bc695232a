#pragma once
// A teacher checkpoint made by fine-tuning: the recipe, and the run that writes the directory
// (best dev checkpoint, tokenizer files, training.json). Shared by `kprune finetune` and the
// sweep's finetune job.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>

#include "framework/tasks/task.h"
#include "framework/train/finetune.h"

namespace kprune {

struct TeacherRecipe {
  std::string task;
  std::string data_dir;
  std::string init_checkpoint;  // empty: random init of the shape below
  std::string vocab;            // empty: the init checkpoint's vocab.txt
  bool cased = false;
  std::string model_type = "bert";  // random init: bert or distilbert
  int64_t layers = 4, hidden = 256, heads = 4, ffn = 1024, max_position = 512;
  std::optional<double> dropout;   // random init; unset: HF's defaults
  int64_t max_seq_len = 0;         // 0: the task's
  int64_t doc_stride = 128;        // SQuAD: context tokens shared by consecutive windows
  int64_t max_train_examples = 0;  // 0: all
  double epochs = 0;  // > 0: options.max_steps = ceil(epochs x train examples / batch size)
  FinetuneOptions options;
};

struct TeacherRun {
  FinetuneResult result;
  nlohmann::json record;  // what training.json holds
};

// An HF-style config.json for a randomly initialised model of the recipe's shape.
nlohmann::json random_init_config(const TeacherRecipe& recipe, const TaskSpec& task,
                                  int64_t vocab_size);

// Trains the recipe's model and writes `out_dir`: config.json and model.safetensors of the
// best dev evaluation, vocab.txt, tokenizer_config.json and training.json (recipe, data files
// with sha256, code version, every dev evaluation). Progress lines go to `log`.
TeacherRun train_teacher(const TeacherRecipe& recipe, const std::string& out_dir,
                         std::ostream& log);

}  // namespace kprune
