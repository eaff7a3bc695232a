#include "framework/tasks/squad_decode.h"

#include <algorithm>
#include <numeric>
#include <optional>

#include "framework/util/error.h"

namespace kprune {
namespace {

struct Candidate {
  int64_t begin_char = 0, end_char = 0;  // [begin, end) in the context
  double start_logit = 0, end_logit = 0;
  bool is_null = false;
  double score() const { return start_logit + end_logit; }
};

// Indices of the `count` largest values, largest first (ties: the later index first, as
// np.argsort(...)[::-1] does with a stable sort). A partial sort: only `count` are ordered.
std::vector<int64_t> top_indices(const std::vector<double>& values, int64_t length, int64_t count) {
  std::vector<int64_t> order(static_cast<size_t>(length));
  std::iota(order.begin(), order.end(), 0);
  const auto kept = std::min(order.size(), static_cast<size_t>(std::max<int64_t>(count, 0)));
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(kept), order.end(),
                    [&](int64_t a, int64_t b) {
                      const double x = values[static_cast<size_t>(a)];
                      const double y = values[static_cast<size_t>(b)];
                      return x > y || (x == y && a > b);
                    });
  order.resize(kept);
  return order;
}

// Spans of one feature (and, v2, its null candidate at [CLS]).
void add_candidates(const SquadFeature& feature, const std::vector<double>& starts,
                    const std::vector<double>& ends, const SquadDecodeOptions& options,
                    std::vector<Candidate>& spans, std::optional<Candidate>& min_null) {
  const int64_t length = feature.tokens.length();
  if (static_cast<int64_t>(starts.size()) < length || static_cast<int64_t>(ends.size()) < length) {
    fail("decode_squad: question {}: {} start / {} end logits for a feature of {} tokens",
         feature.example_id, starts.size(), ends.size(), length);
  }
  const Candidate null{0, 0, starts[0], ends[0], true};
  if (!min_null || null.score() < min_null->score()) min_null = null;
  const auto& offsets = feature.context_offsets;
  const std::vector<int64_t> best_ends = top_indices(ends, length, options.n_best);
  for (const int64_t start : top_indices(starts, length, options.n_best)) {
    for (const int64_t end : best_ends) {
      const auto& start_offset = offsets[static_cast<size_t>(start)];
      const auto& end_offset = offsets[static_cast<size_t>(end)];
      if (start_offset == kNoContextOffset || end_offset == kNoContextOffset) continue;
      if (end < start || end - start + 1 > options.max_answer_length) continue;
      spans.push_back({start_offset.first, end_offset.second, starts[static_cast<size_t>(start)],
                       ends[static_cast<size_t>(end)], false});
    }
  }
}

}  // namespace

std::vector<SquadPrediction> decode_squad(const SquadDataset& dataset,
                                          const std::vector<SquadFeature>& features,
                                          const std::vector<std::vector<double>>& start_logits,
                                          const std::vector<std::vector<double>>& end_logits,
                                          const SquadDecodeOptions& options) {
  if (start_logits.size() != features.size() || end_logits.size() != features.size()) {
    fail("decode_squad: {} features but {} start and {} end logit rows", features.size(),
         start_logits.size(), end_logits.size());
  }
  std::vector<std::vector<size_t>> features_of(dataset.questions.size());
  for (size_t f = 0; f < features.size(); ++f) {
    const auto question = static_cast<size_t>(features[f].tokens.example_index);
    if (question >= dataset.questions.size()) {
      fail("decode_squad: feature {} belongs to question {} of {}", f, question,
           dataset.questions.size());
    }
    features_of[question].push_back(f);
  }
  std::vector<SquadPrediction> predictions;
  for (size_t q = 0; q < dataset.questions.size(); ++q) {
    if (features_of[q].empty()) continue;
    const SquadQuestion& question = dataset.questions[q];
    std::vector<Candidate> candidates;
    std::optional<Candidate> min_null;
    for (const size_t f : features_of[q]) {
      add_candidates(features[f], start_logits[f], end_logits[f], options, candidates, min_null);
    }
    if (options.version_2) candidates.push_back(*min_null);
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Candidate& a, const Candidate& b) { return a.score() > b.score(); });
    if (static_cast<int64_t>(candidates.size()) > options.n_best) {
      candidates.resize(static_cast<size_t>(options.n_best));
    }
    const std::string& context = dataset.context_of(question);
    std::vector<std::string> texts;
    for (const Candidate& candidate : candidates) {
      texts.push_back(candidate.is_null ? ""
                                        : substring_code_points(context, candidate.begin_char,
                                                                candidate.end_char));
    }
    // The reference's fallback when nothing but (at most) the null answer is left.
    if (std::all_of(texts.begin(), texts.end(), [](const std::string& t) { return t.empty(); })) {
      candidates.insert(candidates.begin(), Candidate{});
      texts.insert(texts.begin(), "empty");
    }
    SquadPrediction prediction;
    prediction.id = question.id;
    if (!options.version_2) {
      prediction.text = texts.front();
    } else {
      // The best candidate with a non-empty text (the null one has none).
      size_t best = 0;
      while (best < texts.size() && texts[best].empty()) ++best;
      const Candidate& chosen = candidates[best];
      prediction.null_score_diff = min_null->score() - chosen.score();
      prediction.text = prediction.null_score_diff > options.null_threshold ? "" : texts[best];
    }
    predictions.push_back(std::move(prediction));
  }
  return predictions;
}

std::map<std::string, std::string> prediction_texts(
    const std::vector<SquadPrediction>& predictions) {
  std::map<std::string, std::string> texts;
  for (const auto& prediction : predictions) texts[prediction.id] = prediction.text;
  return texts;
}

}  // namespace kprune
