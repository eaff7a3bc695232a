#include "framework/tasks/glue_tsv.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <utility>
#include <vector>

#include "framework/util/error.h"
#include "framework/util/files.h"

namespace kprune {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
// Individual warnings for skipped rows stop here; the summary still counts all of them.
constexpr size_t kMaxSkipWarnings = 5;

std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    if (tab == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return fields;
    }
    fields.push_back(line.substr(start, tab - start));
    start = tab + 1;
  }
}

std::vector<std::string_view> split_lines(std::string_view bytes) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < bytes.size()) {
    size_t end = bytes.find('\n', start);
    if (end == std::string_view::npos) end = bytes.size();
    std::string_view line = bytes.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

std::string quoted_fields(const std::vector<std::string_view>& fields) {
  std::string out;
  for (const auto& field : fields) {
    if (!out.empty()) out += ", ";
    out += fmt::format("'{}'", field);
  }
  return out;
}

// Where the fields of one row are, once the header (or its absence) is known.
struct ColumnPlan {
  size_t num_columns = 0;
  size_t text_a = 0;
  std::optional<size_t> text_b;
  std::optional<size_t> label;
  size_t first_data_line = 0;  // 0-based index into the lines
};

std::optional<size_t> find_column(const std::vector<std::string_view>& header,
                                  const std::string& name) {
  const auto it = std::find(header.begin(), header.end(), name);
  if (it == header.end()) return std::nullopt;
  return static_cast<size_t>(it - header.begin());
}

ColumnPlan plan_columns(const TaskSpec& task, const GlueTsvFormat& format, const std::string& path,
                        std::string_view first_line, bool labels_optional) {
  const auto header = split_tabs(first_line);
  const auto text_a = find_column(header, format.text_a_column);
  const auto text_b =
      format.text_b_column.empty() ? std::nullopt : find_column(header, format.text_b_column);
  const bool is_header = text_a && (format.text_b_column.empty() || text_b);
  ColumnPlan plan;
  if (is_header) {
    plan.num_columns = header.size();
    plan.text_a = *text_a;
    plan.text_b = text_b;
    plan.label = find_column(header, format.label_column);
    plan.first_data_line = 1;
    if (!plan.label && !labels_optional) {
      fail(
          "{}:1: the header has no label column '{}' for task {} (found {}); only test splits "
          "may be unlabelled",
          path, format.label_column, task.name, quoted_fields(header));
    }
    return plan;
  }
  if (!format.headerless) {
    const std::string expected =
        format.text_b_column.empty()
            ? fmt::format("'{}'", format.text_a_column)
            : fmt::format("'{}' and '{}'", format.text_a_column, format.text_b_column);
    fail("{}:1: expected a header row with columns {} for task {}; found {}", path, expected,
         task.name, quoted_fields(header));
  }
  const auto& positions = *format.headerless;
  plan.num_columns = static_cast<size_t>(positions.num_columns);
  plan.text_a = static_cast<size_t>(positions.text_a);
  if (positions.text_b >= 0) plan.text_b = static_cast<size_t>(positions.text_b);
  plan.label = static_cast<size_t>(positions.label);
  plan.first_data_line = 0;
  return plan;
}

// The label of a row, or the reason it is malformed.
std::pair<double, std::string> parse_label(const TaskSpec& task, std::string_view field) {
  if (task.head_kind == HeadKind::regression) {
    const std::string text(field);
    char* end = nullptr;
    errno = 0;
    const double score = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE ||
        !std::isfinite(score)) {
      return {0, fmt::format("expected a finite number as the score, found '{}'", field)};
    }
    return {score, ""};
  }
  const auto it = std::find(task.label_names.begin(), task.label_names.end(), field);
  if (it == task.label_names.end()) {
    std::vector<std::string_view> names(task.label_names.begin(), task.label_names.end());
    return {0, fmt::format("expected a label in {{{}}}, found '{}'", quoted_fields(names), field)};
  }
  return {static_cast<double>(it - task.label_names.begin()), ""};
}

}  // namespace

SplitData parse_glue_tsv(const TaskSpec& task, const GlueTsvFormat& format, const std::string& path,
                         const std::string& bytes, bool labels_optional,
                         MalformedRows malformed_rows) {
  std::string_view content = bytes;
  if (content.substr(0, kUtf8Bom.size()) == kUtf8Bom) content.remove_prefix(kUtf8Bom.size());
  const auto lines = split_lines(content);
  if (lines.empty()) fail("{}: the file is empty; expected a {} TSV file", path, task.name);
  const ColumnPlan plan = plan_columns(task, format, path, lines.front(), labels_optional);

  SplitData data;
  data.path = path;
  data.examples.reserve(lines.size());
  for (size_t i = plan.first_data_line; i < lines.size(); ++i) {
    const auto line_number = static_cast<int64_t>(i + 1);
    const auto fields = split_tabs(lines[i]);
    std::string problem;
    Example example;
    example.line = line_number;
    example.label = std::nan("");
    if (fields.size() != plan.num_columns) {
      problem = fmt::format("expected {} tab-separated fields, found {}", plan.num_columns,
                            lines[i].empty() ? 0 : fields.size());
    } else {
      if (plan.label) std::tie(example.label, problem) = parse_label(task, fields[*plan.label]);
      example.text_a = std::string(fields[plan.text_a]);
      if (plan.text_b) example.text_b = std::string(fields[*plan.text_b]);
    }
    if (problem.empty()) {
      data.examples.push_back(std::move(example));
      continue;
    }
    if (malformed_rows == MalformedRows::error) {
      fail(
          "{}:{}: malformed {} row: {} (rows like this can be skipped with the 'skip' policy for "
          "malformed rows)",
          path, line_number, task.name, problem);
    }
    if (data.skipped.size() < kMaxSkipWarnings) {
      spdlog::warn("{}:{}: skipping malformed {} row: {}", path, line_number, task.name, problem);
    }
    data.skipped.push_back({line_number, problem});
  }
  if (!data.skipped.empty()) {
    spdlog::warn("{}: skipped {} malformed row(s) of {}", path, data.skipped.size(),
                 lines.size() - plan.first_data_line);
  }
  return data;
}

TaskReader glue_tsv_reader(GlueTsvFormat format) {
  return [format = std::move(format)](const TaskSpec& task, const std::string& data_dir,
                                      const std::string& split, const ReadOptions& options) {
    const std::string path = split_path(task, data_dir, split);
    const bool is_test_split = split.rfind("test", 0) == 0;
    return parse_glue_tsv(task, format, path, read_file(path), is_test_split,
                          options.malformed_rows.value_or(task.malformed_rows));
  };
}

}  // namespace kprune
