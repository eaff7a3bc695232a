#include "framework/tasks/squad_data.h"

#include <algorithm>
#include <unordered_set>

#include "framework/text/utf8.h"
#include "framework/util/error.h"
#include "framework/util/files.h"

namespace kprune {
namespace {

// Where in the file a value is, for messages: "dev.json: question 56dd...".
struct Place {
  const std::string& origin;
  std::string where;
};

const nlohmann::json& field(const nlohmann::json& object, const char* key, const Place& place) {
  if (!object.is_object()) fail("{}: {}: expected a JSON object", place.origin, place.where);
  const auto it = object.find(key);
  if (it == object.end()) fail("{}: {}: missing field \"{}\"", place.origin, place.where, key);
  return *it;
}

std::string string_field(const nlohmann::json& object, const char* key, const Place& place) {
  const auto& value = field(object, key, place);
  if (!value.is_string()) {
    fail("{}: {}: \"{}\" must be a string, found {}", place.origin, place.where, key,
         value.type_name());
  }
  return value.get<std::string>();
}

const nlohmann::json& array_field(const nlohmann::json& object, const char* key,
                                  const Place& place) {
  const auto& value = field(object, key, place);
  if (!value.is_array()) {
    fail("{}: {}: \"{}\" must be an array, found {}", place.origin, place.where, key,
         value.type_name());
  }
  return value;
}

std::vector<SquadAnswer> read_answers(const nlohmann::json& list, const char* key,
                                      const std::vector<char32_t>& context, const Place& place) {
  std::vector<SquadAnswer> answers;
  for (size_t i = 0; i < list.size(); ++i) {
    const Place answer_place{place.origin, fmt::format("{}: {}[{}]", place.where, key, i)};
    SquadAnswer answer;
    answer.text = string_field(list[i], "text", answer_place);
    const auto& start = field(list[i], "answer_start", answer_place);
    if (!start.is_number_integer()) {
      fail("{}: {}: \"answer_start\" must be an integer, found {}", place.origin,
           answer_place.where, start.type_name());
    }
    answer.start = start.get<int64_t>();
    const std::vector<char32_t> text = decode_utf8(answer.text);
    const auto length = static_cast<int64_t>(text.size());
    const auto context_length = static_cast<int64_t>(context.size());
    // answer_start may be any int64: answer_start + length is formed only when it cannot overflow.
    const bool inside = answer.start >= 0 && answer.start <= context_length - length;
    if (!inside || !std::equal(text.begin(), text.end(), context.begin() + answer.start)) {
      const int64_t found_end =
          answer.start > context_length - length ? context_length : answer.start + length;
      std::string found;
      for (int64_t c = std::clamp<int64_t>(answer.start, 0, context_length);
           c < std::clamp<int64_t>(found_end, 0, context_length); ++c) {
        append_utf8(context[static_cast<size_t>(c)], found);
      }
      fail("{}: {}: answer \"{}\" is not the context at answer_start {} (found \"{}\")",
           place.origin, answer_place.where, answer.text, answer.start, found);
    }
    answers.push_back(std::move(answer));
  }
  return answers;
}

SquadQuestion read_question(const nlohmann::json& qa, int64_t paragraph,
                            const std::vector<char32_t>& context, const Place& paragraph_place) {
  SquadQuestion question;
  question.paragraph = paragraph;
  question.id = string_field(qa, "id", paragraph_place);
  const Place place{paragraph_place.origin, "question " + question.id};
  question.question = string_field(qa, "question", place);
  bool impossible = false;
  if (qa.contains("is_impossible")) {
    const auto& flag = qa["is_impossible"];
    if (!flag.is_boolean()) {
      fail("{}: {}: \"is_impossible\" must be a boolean, found {}", place.origin, place.where,
           flag.type_name());
    }
    impossible = flag.get<bool>();
  }
  question.answers = read_answers(array_field(qa, "answers", place), "answers", context, place);
  if (impossible != question.answers.empty()) {
    fail("{}: {}: is_impossible is {} but the question has {} answers", place.origin, place.where,
         impossible, question.answers.size());
  }
  if (qa.contains("plausible_answers")) {
    question.plausible_answers = read_answers(array_field(qa, "plausible_answers", place),
                                              "plausible_answers", context, place);
  }
  return question;
}

}  // namespace

bool SquadDataset::has_unanswerable() const {
  return std::any_of(questions.begin(), questions.end(),
                     [](const SquadQuestion& q) { return q.is_impossible(); });
}

SquadDataset parse_squad(const nlohmann::json& json, const std::string& origin) {
  SquadDataset dataset;
  dataset.path = origin;
  const Place top{origin, "top level"};
  if (json.is_object() && json.contains("version")) {
    if (!json["version"].is_string()) fail("{}: \"version\" must be a string", origin);
    dataset.version = json["version"].get<std::string>();
  }
  std::unordered_set<std::string> ids;
  const auto& articles = array_field(json, "data", top);
  for (size_t a = 0; a < articles.size(); ++a) {
    const Place article_place{origin, fmt::format("data[{}]", a)};
    const std::string title = string_field(articles[a], "title", article_place);
    const auto& paragraphs = array_field(articles[a], "paragraphs", article_place);
    for (size_t p = 0; p < paragraphs.size(); ++p) {
      const Place paragraph_place{origin, fmt::format("data[{}].paragraphs[{}]", a, p)};
      SquadParagraph paragraph{title, string_field(paragraphs[p], "context", paragraph_place)};
      const std::vector<char32_t> context = decode_utf8(paragraph.context);
      const auto index = static_cast<int64_t>(dataset.paragraphs.size());
      const auto& qas = array_field(paragraphs[p], "qas", paragraph_place);
      for (size_t q = 0; q < qas.size(); ++q) {
        const Place qa_place{origin, fmt::format("{}.qas[{}]", paragraph_place.where, q)};
        SquadQuestion question = read_question(qas[q], index, context, qa_place);
        if (!ids.insert(question.id).second) {
          fail("{}: question {}: the id appears twice", origin, question.id);
        }
        dataset.questions.push_back(std::move(question));
      }
      dataset.paragraphs.push_back(std::move(paragraph));
    }
  }
  return dataset;
}

SquadDataset read_squad_file(const std::string& path) {
  return parse_squad(read_json_file(path), path);
}

std::string substring_code_points(const std::string& text, int64_t begin, int64_t end) {
  const std::vector<char32_t> code_points = decode_utf8(text);
  const auto size = static_cast<int64_t>(code_points.size());
  begin = std::clamp<int64_t>(begin, 0, size);
  end = std::clamp<int64_t>(end, begin, size);
  std::string out;
  for (int64_t i = begin; i < end; ++i) append_utf8(code_points[static_cast<size_t>(i)], out);
  return out;
}

}  // namespace kprune
