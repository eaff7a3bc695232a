#pragma once
// SQuAD v1.1 / v2.0 data in the official JSON layout:
//   {"version": ..., "data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question",
//    "answers": [{"text", "answer_start"}], "is_impossible"?, "plausible_answers"?}]}]}]}
// The reader validates as it reads: a missing field, a field of the wrong type, or an answer whose
// text is not the context at `answer_start` is a kprune::Error naming the file and the question id.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kprune {

struct SquadAnswer {
  std::string text;
  int64_t start = 0;  // `answer_start`: code points into the context, as Python indexes a str
};

struct SquadParagraph {
  std::string title;    // of the article the paragraph belongs to
  std::string context;  // UTF-8
};

struct SquadQuestion {
  std::string id;
  std::string question;
  int64_t paragraph = 0;                       // index into SquadDataset::paragraphs
  std::vector<SquadAnswer> answers;            // empty iff unanswerable (v2 `is_impossible`)
  std::vector<SquadAnswer> plausible_answers;  // v2, unanswerable questions only
  bool is_impossible() const { return answers.empty(); }
};

struct SquadDataset {
  std::string path;     // the file read, for messages
  std::string version;  // the file's "version" field ("1.1", "v2.0"); empty when absent
  std::vector<SquadParagraph> paragraphs;
  std::vector<SquadQuestion> questions;  // in file order

  const std::string& context_of(const SquadQuestion& question) const {
    return paragraphs[static_cast<size_t>(question.paragraph)].context;
  }
  // True when some question is unanswerable (the v2 decoding and metrics apply).
  bool has_unanswerable() const;
};

// `origin` names the source in messages. Duplicate question ids are an error.
SquadDataset parse_squad(const nlohmann::json& json, const std::string& origin);
SquadDataset read_squad_file(const std::string& path);

// The code points [begin, end) of UTF-8 `text`, as Python's text[begin:end] (indices clamped to
// the text, like Python slicing).
std::string substring_code_points(const std::string& text, int64_t begin, int64_t end);

}  // namespace kprune
