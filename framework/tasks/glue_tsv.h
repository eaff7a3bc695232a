#pragma once
// Reader for the GLUE distribution's TSV files (the files its download script writes).
//
// Format rules, as Python's csv.reader(delimiter="\t", quoting=QUOTE_NONE) reads them:
// - fields are split on every tab; quote characters are ordinary text;
// - a UTF-8 BOM at the start of the file is dropped (MRPC has one before "Quality");
// - a trailing '\r' is dropped from each line; text is otherwise kept byte for byte (SST-2's
//   space before the tab stays; the tokenizer ignores it);
// - the first line is a header iff it holds the text column names of the format; columns are
//   then found by name and every row must have as many fields as the header. Files without a
//   header (CoLA train/dev, QQP train subsets) use the format's fixed positions;
// - a header without the label column is accepted only for test splits (split name starting
//   with "test"); their examples have label NaN;
// - a malformed row (wrong field count, a label not in TaskSpec::label_names, an unparsable or
//   non-finite score, an empty line) is handled per ReadOptions/TaskSpec::malformed_rows.
#include <cstdint>
#include <optional>
#include <string>

#include "framework/tasks/task.h"

namespace kprune {

struct GlueTsvFormat {
  // Header names of the fields.
  std::string text_a_column;
  std::string text_b_column;  // empty for single-sentence tasks
  std::string label_column;
  // 0-based positions in files without a header; unset: a header is required.
  struct Positions {
    int64_t num_columns = 0;
    int64_t text_a = 0;
    int64_t text_b = -1;  // -1 for single-sentence tasks
    int64_t label = 0;
  };
  std::optional<Positions> headerless;
};

// Parses the bytes of one TSV file; `path` is used in messages and SplitData::path.
SplitData parse_glue_tsv(const TaskSpec& task, const GlueTsvFormat& format, const std::string& path,
                         const std::string& bytes, bool labels_optional,
                         MalformedRows malformed_rows);

// A TaskReader for `<data_dir>/<task.dir_name>/<split>.tsv` in `format`.
TaskReader glue_tsv_reader(GlueTsvFormat format);

}  // namespace kprune
