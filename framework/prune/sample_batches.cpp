#include "framework/prune/sample_batches.h"

#include <cmath>

#include "framework/util/error.h"
#include "framework/util/files.h"

namespace kprune {
namespace {

// Integers travel as doubles on their way into the tensor: beyond 2^53 they would be rounded,
// and beyond int64 converting them back is undefined behaviour.
constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53

// One entry of `field`: a number, and an integer of at most 2^53 in magnitude when the tensor
// holds integers (ids, masks, positions, class labels).
double json_number(const nlohmann::json& value, const std::string& field, torch::ScalarType dtype,
                   const std::string& origin) {
  if (torch::isFloatingType(dtype)) {
    if (!value.is_number())
      fail("{}: '{}' must hold numbers, found {}", origin, field, value.dump());
    return value.get<double>();
  }
  if (!value.is_number_integer() || std::fabs(value.get<double>()) > kMaxExactInteger) {
    fail("{}: '{}' must hold integers of at most 2^53 in magnitude, found {}", origin, field,
         value.dump());
  }
  return value.get<double>();
}

// [rows] or [rows, cols] of numbers -> tensor of `dtype`; ragged rows are an error.
torch::Tensor json_matrix(const nlohmann::json& json, const std::string& field, int dims,
                          torch::ScalarType dtype, const std::string& origin) {
  if (!json.is_array() || json.empty()) fail("{}: '{}' must be a non-empty array", origin, field);
  std::vector<double> values;
  int64_t cols = 0;
  for (const nlohmann::json& row : json) {
    if (dims == 1) {
      values.push_back(json_number(row, field, dtype, origin));
      continue;
    }
    if (!row.is_array()) fail("{}: '{}' must be an array of rows", origin, field);
    if (cols == 0) cols = static_cast<int64_t>(row.size());
    if (static_cast<int64_t>(row.size()) != cols || cols == 0) {
      fail("{}: the rows of '{}' must be padded to one length (found {} and {})", origin, field,
           cols, row.size());
    }
    for (const nlohmann::json& v : row) values.push_back(json_number(v, field, dtype, origin));
  }
  torch::Tensor t = torch::tensor(values, torch::kFloat64).to(dtype);
  const int64_t rows = static_cast<int64_t>(json.size());
  return dims == 1 ? t : t.reshape({rows, cols});
}

}  // namespace

Batch batch_from_json(const nlohmann::json& line, HeadKind head_kind, const std::string& origin) {
  auto field = [&](const char* name) -> const nlohmann::json& {
    if (!line.contains(name)) fail("{}: the batch has no '{}'", origin, name);
    return line.at(name);
  };
  Batch batch;
  batch.input_ids = json_matrix(field("input_ids"), "input_ids", 2, torch::kInt64, origin);
  batch.attention_mask =
      json_matrix(field("attention_mask"), "attention_mask", 2, torch::kInt64, origin);
  batch.token_type_ids =
      line.contains("token_type_ids")
          ? json_matrix(line.at("token_type_ids"), "token_type_ids", 2, torch::kInt64, origin)
          : torch::zeros_like(batch.input_ids);
  if (!batch.attention_mask.sizes().equals(batch.input_ids.sizes()) ||
      !batch.token_type_ids.sizes().equals(batch.input_ids.sizes())) {
    fail("{}: input_ids, token_type_ids and attention_mask must have one shape", origin);
  }
  const int64_t rows = batch.size();
  auto targets = [&](const char* name, torch::ScalarType dtype) {
    torch::Tensor t = json_matrix(line.at(name), name, 1, dtype, origin);
    if (t.size(0) != rows)
      fail("{}: '{}' has {} entries for {} rows", origin, name, t.size(0), rows);
    return t;
  };
  if (head_kind == HeadKind::question_answering) {
    if (line.contains("start_positions")) {
      batch.start_positions = targets("start_positions", torch::kInt64);
    }
    if (line.contains("end_positions"))
      batch.end_positions = targets("end_positions", torch::kInt64);
  } else if (line.contains("labels")) {
    batch.labels =
        targets("labels", head_kind == HeadKind::regression ? torch::kFloat32 : torch::kInt64);
  }
  return batch;
}

std::vector<Batch> read_sample_batches(const std::string& path, HeadKind head_kind) {
  const std::vector<nlohmann::json> lines = read_json_lines(path);
  if (lines.empty()) fail("{}: no sample batch (the file is empty)", path);
  std::vector<Batch> batches;
  for (size_t i = 0; i < lines.size(); ++i) {
    batches.push_back(batch_from_json(lines[i], head_kind, fmt::format("{} line {}", path, i + 1)));
  }
  return batches;
}

}  // namespace kprune
