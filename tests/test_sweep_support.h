#pragma once
// Helpers for the sweep tests: run a command, read a results file back with h5py (an
// independent reader: if h5py can read it, so can the analysis and the users).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/test_support.h"

namespace kprune::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

inline CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run " + command);
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

// One summary row as h5py reads it.
struct SummaryRow {
  std::string job_id;
  std::string status;
  int64_t rank = 0;
  std::string error;
};

// Reads `path` with h5py: checks the schema version and that every summary row has its
// /runs group, and returns the rows. Fails the test when h5py is missing or cannot read it.
inline std::vector<SummaryRow> read_summary_with_h5py(const std::string& path) {
  const std::string script_path = temp_dir("h5py") + "/read.py";
  std::ofstream(script_path) << R"PY(import sys
try:
    import h5py
except ImportError:
    print("H5PY-MISSING: /usr/bin/python3 has no h5py (apt-get install python3-h5py)")
    sys.exit(3)
with h5py.File(sys.argv[1], "r") as f:
    assert f.attrs["schema_version"] == 1, "schema_version"
    for row in f["summary"][:]:
        job_id = row["job_id"].decode()
        assert job_id in f["runs"], "no /runs group for " + job_id
        error = row["error"].decode().replace("\t", " ").replace("\n", " ")
        print("ROW", job_id, row["status"].decode(), int(row["rank"]), error, sep="\t")
)PY";
  const CommandResult result = run_command("/usr/bin/python3 " + script_path + " " + path);
  if (result.exit_code != 0) {
    ADD_FAILURE() << "h5py could not read " << path << ":\n" << result.output;
    throw std::runtime_error("h5py failed on " + path);
  }
  std::vector<SummaryRow> rows;
  std::istringstream lines(result.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("ROW\t", 0) != 0) continue;
    std::istringstream fields(line.substr(4));
    SummaryRow row;
    std::string rank;
    std::getline(fields, row.job_id, '\t');
    std::getline(fields, row.status, '\t');
    std::getline(fields, rank, '\t');
    std::getline(fields, row.error);
    row.rank = std::stoll(rank);
    rows.push_back(row);
  }
  return rows;
}

}  // namespace kprune::testing
