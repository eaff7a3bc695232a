#include "framework/sweep/resume.h"

#include <fmt/format.h>

#include <set>
#include <sstream>

namespace kprune::sweep {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

// Lines only in the old text, then lines only in the new one (as multisets: enough to show
// what changed in a config without a full diff).
std::vector<std::string> changed_lines(const std::string& before, const std::string& after) {
  std::multiset<std::string> old_lines;
  for (const std::string& line : lines_of(before)) old_lines.insert(line);
  std::multiset<std::string> new_lines;
  for (const std::string& line : lines_of(after)) new_lines.insert(line);
  std::vector<std::string> out;
  for (const std::string& line : lines_of(before)) {
    auto it = new_lines.find(line);
    if (it == new_lines.end()) {
      out.push_back("- " + line);
    } else {
      new_lines.erase(it);
    }
  }
  for (const std::string& line : lines_of(after)) {
    auto it = old_lines.find(line);
    if (it == old_lines.end()) {
      out.push_back("+ " + line);
    } else {
      old_lines.erase(it);
    }
  }
  return out;
}

}  // namespace

ResumePlan plan_resume(const std::vector<JobSpec>& jobs,
                       const std::map<std::string, StoredJob>& stored,
                       const std::string& previous_config_text, const std::string& config_text) {
  ResumePlan plan;
  std::set<std::string> in_grid;
  for (const JobSpec& job : jobs) {
    in_grid.insert(job.id);
    auto it = stored.find(job.id);
    if (it != stored.end() && it->second.status == "done") {
      plan.skipped.push_back(job);
    } else {
      plan.to_run.push_back(job);
    }
  }
  for (const auto& [id, job] : stored) {
    if (in_grid.count(id) == 0) plan.not_in_grid[id] = job.params;
  }
  if (!previous_config_text.empty() && previous_config_text != config_text) {
    plan.config_changes = changed_lines(previous_config_text, config_text);
  }
  return plan;
}

std::string describe(const ResumePlan& plan, const std::string& output) {
  std::string out;
  if (!plan.skipped.empty()) {
    out += fmt::format("resume: {} of {} jobs already done in {}, skipped\n", plan.skipped.size(),
                       plan.skipped.size() + plan.to_run.size(), output);
  }
  if (!plan.config_changes.empty()) {
    out += fmt::format("note: the config differs from the one stored in {}:\n", output);
    for (const std::string& line : plan.config_changes) out += "    " + line + "\n";
  }
  if (!plan.not_in_grid.empty()) {
    out += fmt::format("note: {} job(s) in {} are not in this grid (kept, not rerun):\n",
                       plan.not_in_grid.size(), output);
    size_t shown = 0;
    for (const auto& [id, params] : plan.not_in_grid) {
      if (++shown > 5) {
        out += fmt::format("    ... and {} more\n", plan.not_in_grid.size() - 5);
        break;
      }
      out += fmt::format("    {}  {}\n", id, params);
    }
  }
  return out;
}

}  // namespace kprune::sweep
