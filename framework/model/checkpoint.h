#pragma once
// HuggingFace checkpoint directories (config.json + model.safetensors) <-> EncoderModel.
#include <torch/torch.h>

#include <memory>
#include <string>

#include "framework/model/encoder.h"

namespace kprune {

// Reads DIR/config.json and DIR/model.safetensors (only safetensors: a pytorch_model.bin alone
// is an error saying so). Per-layer counts of pruned models come from config.json. The head
// kind follows the tensors when they disagree with config.json (a qa_outputs tensor means
// question answering). Missing or unexpected tensors and shape mismatches are reported by
// name with expected vs found shape; known-harmless extras (position_ids, MLM head) are
// ignored with a debug log line. The model is float32, in eval mode, on `device`.
std::shared_ptr<EncoderModel> load_checkpoint(const std::string& dir,
                                              torch::Device device = torch::kCPU);

// True when DIR/config.json names a pretraining architecture (XForMaskedLM, XForPreTraining,
// XModel): an encoder without a task head, such as `kprune pretrain` writes.
bool is_pretrained_encoder_checkpoint(const std::string& dir);

// The config of a checkpoint with its head as load_checkpoint() sees it, from config.json and
// the tensor names of model.safetensors (no weights are read); throws as load_checkpoint() does
// for a missing folder or file.
EncoderConfig read_checkpoint_config(const std::string& dir);

// The encoder of a pretrained checkpoint under a fresh task head of `kind` with `num_labels`:
// every encoder tensor must be present; a pooler / pre_classifier is taken when present (as HF
// does) and initialised otherwise; the classifier is HF-initialised from `seed`, whatever the
// checkpoint holds; MLM-head tensors are dropped. Float32, eval mode, on `device`.
std::shared_ptr<EncoderModel> load_encoder_checkpoint(const std::string& dir, HeadKind kind,
                                                      int64_t num_labels, uint64_t seed,
                                                      torch::Device device = torch::kCPU);

// config.json (with per-layer counts when pruned) + model.safetensors (F32, physically
// smaller tensors; an LN-only sublayer has only its LayerNorm tensors). Creates DIR.
void save_checkpoint(const EncoderModel& model, const std::string& dir);

// Full-shape weights, zeros where units were removed (and a zero output bias for an LN-only
// sublayer, which gives LN(X) exactly), with a plain HF config: stock HF code loads it.
void save_masked_export(const EncoderModel& pruned, const std::string& dir);

// The HF tensors of a model by HF name, F32 on CPU (what save_checkpoint writes).
std::map<std::string, torch::Tensor> hf_state_dict(const EncoderModel& model);

// Copies vocab.txt, tokenizer_config.json, special_tokens_map.json and tokenizer.json from
// src_dir to dst_dir where present; returns how many were copied.
int copy_tokenizer_files(const std::string& src_dir, const std::string& dst_dir);

}  // namespace kprune
