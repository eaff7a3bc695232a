#pragma once
// The sample set as JSON lines, one already padded batch per line (`kprune prune
// --sample-batches`): input_ids, attention_mask, optional token_type_ids (zeros when absent),
// and the targets `labels` (int64 for classification, float32 for regression) or
// `start_positions`/`end_positions` (question answering). Used as given and in order.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "framework/model/batch.h"
#include "framework/model/config.h"

namespace kprune {

// One line; `origin` names it in errors (rows of different lengths, missing fields).
Batch batch_from_json(const nlohmann::json& line, HeadKind head_kind, const std::string& origin);

// Every line of `path`; an empty file is an error.
std::vector<Batch> read_sample_batches(const std::string& path, HeadKind head_kind);

}  // namespace kprune
