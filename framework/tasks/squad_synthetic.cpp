#include "framework/tasks/squad_synthetic.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include "framework/util/error.h"
#include "framework/util/files.h"

namespace kprune {
namespace {

using Words = std::vector<std::string>;

const Words kPeople = {"Alice", "Bob",   "Carol", "Dave", "Erin",    "Frank",
                       "Grace", "Heidi", "Ivan",  "Judy", "Mallory", "Oscar"};

// A kind of fact: how a sentence states it, how a question asks for it, its possible values.
struct Relation {
  std::string statement;  // "{person} lives in {value} ."
  std::string question;   // "where does {person} live ?"
  Words values;
};

const std::vector<Relation>& relations() {
  static const std::vector<Relation> list = {
      {"{} lives in {} .",
       "where does {} live ?",
       {"Paris", "Rome", "Oslo", "Lima", "Cairo", "Delhi", "Tokyo", "Quito"}},
      {"{} likes the color {} .",
       "what color does {} like ?",
       {"red", "green", "blue", "yellow", "purple", "orange", "black", "white"}},
      {"{} owns a {} .",
       "what pet does {} own ?",
       {"dog", "cat", "horse", "parrot", "rabbit", "turtle", "goat", "hamster"}},
      {"{} was born in {} .",
       "when was {} born ?",
       {"1971", "1978", "1983", "1987", "1990", "1994", "1999", "2002"}},
      {"{} works as a {} .",
       "what is the job of {} ?",
       {"baker", "doctor", "pilot", "farmer", "teacher", "painter", "lawyer", "nurse"}},
  };
  return list;
}

struct Fact {
  size_t person = 0;
  size_t relation = 0;
  std::string value;
  int64_t value_start = 0;  // in the context (ASCII: bytes = code points)
};

// Draws k distinct indices below n, in draw order.
std::vector<size_t> distinct(IndexSampler& sampler, size_t n, size_t k) {
  std::vector<size_t> pool(n);
  for (size_t i = 0; i < n; ++i) pool[i] = i;
  std::vector<size_t> out;
  for (size_t i = 0; i < k; ++i) {
    const size_t j = i + sampler.below(n - i);
    std::swap(pool[i], pool[j]);
    out.push_back(pool[i]);
  }
  return out;
}

nlohmann::json answer_json(const Fact& fact) {
  return {{"text", fact.value}, {"answer_start", fact.value_start}};
}

nlohmann::json paragraph(IndexSampler& sampler, const SquadSyntheticOptions& options,
                         const std::string& id) {
  const size_t num_people = 3 + sampler.below(3);
  const std::vector<size_t> people = distinct(sampler, kPeople.size(), num_people);
  std::vector<Fact> facts;
  for (const size_t person : people) {
    for (const size_t relation : distinct(sampler, relations().size(), 1 + sampler.below(2))) {
      const Words& values = relations()[relation].values;
      facts.push_back({person, relation, values[sampler.below(values.size())], 0});
    }
  }
  // Sentences in random order; the value's position is found as the sentence is written.
  const std::vector<size_t> order = distinct(sampler, facts.size(), facts.size());
  std::string context;
  for (const size_t f : order) {
    Fact& fact = facts[f];
    if (!context.empty()) context += ' ';
    const std::string& statement = relations()[fact.relation].statement;
    const std::string head = fmt::format(fmt::runtime(statement.substr(0, statement.find("{}", 2))),
                                         kPeople[fact.person]);
    fact.value_start = static_cast<int64_t>(context.size() + head.size());
    context += fmt::format(fmt::runtime(statement), kPeople[fact.person], fact.value);
  }
  nlohmann::json qas = nlohmann::json::array();
  for (int64_t q = 0; q < options.questions_per_paragraph; ++q) {
    nlohmann::json qa = {{"id", fmt::format("{}-{}", id, q)}};
    const bool impossible = options.version_2 &&
                            static_cast<int64_t>(sampler.below(100)) < options.unanswerable_percent;
    const Fact& asked = facts[sampler.below(facts.size())];
    const Relation& relation = relations()[asked.relation];
    if (!impossible) {
      qa["question"] = fmt::format(fmt::runtime(relation.question), kPeople[asked.person]);
      qa["answers"] = {answer_json(asked)};
    } else {
      // Someone in the paragraph of whom this kind of fact is not stated; when everyone's is,
      // someone not in the paragraph.
      auto unstated = [&](bool in_paragraph) {
        std::vector<size_t> found;
        for (size_t person = 0; person < kPeople.size(); ++person) {
          const bool present = std::find(people.begin(), people.end(), person) != people.end();
          const bool stated = std::any_of(facts.begin(), facts.end(), [&](const Fact& fact) {
            return fact.person == person && fact.relation == asked.relation;
          });
          if (present == in_paragraph && !stated) found.push_back(person);
        }
        return found;
      };
      std::vector<size_t> candidates = unstated(true);
      if (candidates.empty()) candidates = unstated(false);
      const size_t person = candidates[sampler.below(candidates.size())];
      qa["question"] = fmt::format(fmt::runtime(relation.question), kPeople[person]);
      qa["answers"] = nlohmann::json::array();
      qa["plausible_answers"] = {answer_json(asked)};
    }
    if (options.version_2) qa["is_impossible"] = impossible;
    qas.push_back(std::move(qa));
  }
  return {{"context", context}, {"qas", qas}};
}

}  // namespace

nlohmann::json generate_synthetic_squad(IndexSampler& sampler, const SquadSyntheticOptions& options,
                                        const std::string& id_prefix) {
  if (options.paragraphs <= 0 || options.questions_per_paragraph <= 0) {
    fail("generate_synthetic_squad: paragraphs and questions per paragraph must be positive");
  }
  nlohmann::json paragraphs = nlohmann::json::array();
  for (int64_t p = 0; p < options.paragraphs; ++p) {
    paragraphs.push_back(paragraph(sampler, options, fmt::format("{}-{}", id_prefix, p)));
  }
  return {{"version", options.version_2 ? "v2.0" : "1.1"},
          {"data", {{{"title", "Synthetic"}, {"paragraphs", paragraphs}}}}};
}

std::vector<std::string> synthetic_squad_words() {
  std::set<std::string> words = {".", "?"};
  auto add_text = [&](const std::string& text) {
    std::string word;
    for (const char c : text + " ") {
      if (c == ' ') {
        if (!word.empty() && word != "{}") words.insert(word);
        word.clear();
      } else {
        word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
    }
  };
  for (const auto& person : kPeople) add_text(person);
  for (const auto& relation : relations()) {
    add_text(relation.statement);
    add_text(relation.question);
    for (const auto& value : relation.values) add_text(value);
  }
  return {words.begin(), words.end()};
}

void write_synthetic_squad(const std::string& out_dir, uint64_t seed, int64_t train_paragraphs,
                           int64_t dev_paragraphs, SquadSyntheticOptions options) {
  const std::string version = options.version_2 ? "v2.0" : "v1.1";
  const std::string task_dir = out_dir + "/" + version;
  std::error_code error;
  std::filesystem::create_directories(task_dir, error);
  if (error) fail("{}: cannot create the directory: {}", task_dir, error.message());
  std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
  for (const auto& word : synthetic_squad_words()) vocab += word + "\n";
  write_file_atomic(out_dir + "/vocab.txt", vocab);
  // Separate streams, so the dev set does not change when only the train size does.
  IndexSampler train_sampler(seed * 2);
  IndexSampler dev_sampler(seed * 2 + 1);
  options.paragraphs = train_paragraphs;
  write_file_atomic(task_dir + "/train-" + version + ".json",
                    generate_synthetic_squad(train_sampler, options, "train").dump());
  options.paragraphs = dev_paragraphs;
  write_file_atomic(task_dir + "/dev-" + version + ".json",
                    generate_synthetic_squad(dev_sampler, options, "dev").dump());
}

}  // namespace kprune
