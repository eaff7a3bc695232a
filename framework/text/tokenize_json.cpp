#include "framework/text/tokenize_json.h"

#include <optional>

#include "framework/util/error.h"

namespace kprune {

nlohmann::ordered_json tokenize_json_line(const WordPieceTokenizer& tokenizer,
                                          std::string_view line, const std::string& source,
                                          int64_t line_number, int64_t max_length) {
  nlohmann::ordered_json record;
  // Besides parse_error, parsing throws out_of_range for a number beyond double (1e999).
  try {
    record = nlohmann::ordered_json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    fail("{} line {}: not valid JSON: {}", source, line_number, e.what());
  }
  if (!record.is_object()) {
    fail("{} line {}: expected a JSON object like {{\"a\": \"text\"}}, found {}", source,
         line_number, record.type_name());
  }
  const auto a = record.find("a");
  if (a == record.end() || !a->is_string()) {
    fail("{} line {}: expected a string field \"a\"", source, line_number);
  }
  std::optional<std::string> b;
  if (const auto found = record.find("b"); found != record.end()) {
    if (!found->is_string()) {
      fail("{} line {}: field \"b\" must be a string, found {}", source, line_number,
           found->type_name());
    }
    b = found->get<std::string>();
  }
  Encoding encoding;
  try {
    encoding = tokenizer.encode(a->get<std::string>(), b, max_length);
  } catch (const Error& e) {
    fail("{} line {}: {}", source, line_number, e.what());
  }
  record["input_ids"] = encoding.input_ids;
  record["token_type_ids"] = encoding.token_type_ids;
  auto offsets = nlohmann::ordered_json::array();
  for (const auto& [begin, end] : encoding.offsets) offsets.push_back({begin, end});
  record["offsets"] = std::move(offsets);
  return record;
}

}  // namespace kprune
