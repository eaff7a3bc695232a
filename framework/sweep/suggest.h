#pragma once
// "Did you mean" for misspelt names: the closest candidate by edit distance.
#include <string>
#include <vector>

namespace kprune::sweep {

// Levenshtein distance (insertions, deletions, substitutions).
int edit_distance(const std::string& a, const std::string& b);
// " (did you mean 'x'?)" for the closest candidate within a third of the word's length
// (at least 2 edits), else "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace kprune::sweep
