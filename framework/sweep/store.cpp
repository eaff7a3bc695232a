#include "framework/sweep/store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <hdf5.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <limits>
#include <type_traits>
#include <vector>

#include "framework/util/error.h"
#include "framework/util/version.h"

namespace kprune::sweep {
namespace {

static_assert(std::is_same_v<hid_t, int64_t>, "store.h keeps HDF5 handles as int64_t");

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr hsize_t kSummaryChunkRows = 64;

// Schema order of the /summary members (docs/results-schema.md).
struct SummaryRow {
  const char* job_id;
  const char* kind;
  const char* model;
  const char* task;
  const char* pruner;
  double flops_reduction;
  int64_t seed;
  const char* params;
  const char* status;
  const char* metric_name;
  double metric;
  double teacher_metric;
  double flops_before;
  double flops_after;
  double prune_time_s;
  double eval_time_s;
  double wall_time_s;
  int64_t rank;
  const char* host;
  const char* start_time;
  const char* end_time;
  const char* error;
};

// The members resume needs, read by name from the stored compound.
struct StoredRow {
  char* job_id;
  char* status;
  char* params;
};

// Closes an HDF5 handle with the matching close function when it goes out of scope.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

hid_t check(hid_t id, const std::string& path, const std::string& what) {
  if (id < 0) fail("{}: HDF5 could not {}", path, what);
  return id;
}

// The file descriptor behind an open file (the default sec2 driver keeps one).
int descriptor_of(hid_t file, const std::string& path) {
  void* handle = nullptr;
  if (H5Fget_vfd_handle(file, H5P_DEFAULT, &handle) < 0 || handle == nullptr)
    fail("{}: HDF5 gives no file descriptor for the open file", path);
  return *static_cast<int*>(handle);
}

// HDF5 locks a file it opens (flock); a second sweep on the same file would only see "cannot
// open", so say what is going on first.
void refuse_if_locked(const std::string& path, bool writable) {
  const int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (descriptor < 0) return;  // H5Fopen reports it
  const bool locked =
      flock(descriptor, (writable ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(descriptor);
  if (locked) {
    fail(
        "{}: the results file is open in another running kprune-sweep (HDF5 holds its lock); "
        "wait for that sweep to end, or write elsewhere with sweep.output=FILE",
        path);
  }
}

// Where a rescue copy of `path` may go, in order: beside it if its folder still exists, the
// working directory, the temporary directory (writable ones only).
std::vector<std::string> rescue_paths(const std::string& path) {
  namespace fs = std::filesystem;
  std::string stamp = utc_now();
  stamp.erase(std::remove(stamp.begin(), stamp.end(), ':'), stamp.end());
  const std::string name =
      fs::path(path).stem().string() + ".rescued-" + stamp + "-" + std::to_string(getpid()) + ".h5";
  std::error_code error;
  std::vector<std::string> paths;
  for (const fs::path& folder : {fs::absolute(path, error).parent_path(), fs::current_path(error),
                                 fs::temp_directory_path(error)}) {
    if (!folder.empty() && fs::is_directory(folder, error) && access(folder.c_str(), W_OK) == 0)
      paths.push_back((folder / name).string());
  }
  return paths;
}

// Copies the bytes of an open file, through its descriptor: it may have no name any more.
void copy_descriptor(int descriptor, const std::string& from, const std::string& to) {
  const std::string partial = to + ".part";
  const int out = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) fail("{}: cannot create {} for a rescue copy: {}", from, partial, strerror(errno));
  auto give_up = [&](const char* what) {
    const int cause = errno;
    ::close(out);
    fail("{}: cannot {} the rescue copy {}: {}", from, what, partial, strerror(cause));
  };
  std::vector<char> buffer(1 << 20);
  off_t offset = 0;
  while (true) {
    const ssize_t got = pread(descriptor, buffer.data(), buffer.size(), offset);
    if (got < 0) give_up("read the open results file for");
    if (got == 0) break;
    for (ssize_t written = 0; written < got;) {
      const ssize_t put = ::write(out, buffer.data() + written, static_cast<size_t>(got - written));
      if (put < 0) give_up("write");
      written += put;
    }
    offset += got;
  }
  if (fsync(out) != 0) give_up("complete");
  if (::close(out) != 0 || std::rename(partial.c_str(), to.c_str()) != 0)
    fail("{}: cannot complete the rescue copy {}: {}", from, to, strerror(errno));
}

hid_t make_string_type() {
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  return type;
}

hid_t make_summary_type(hid_t string_type) {
  const hid_t type = H5Tcreate(H5T_COMPOUND, sizeof(SummaryRow));
#define KPRUNE_MEMBER(name, member_type) \
  H5Tinsert(type, #name, HOFFSET(SummaryRow, name), member_type)
  KPRUNE_MEMBER(job_id, string_type);
  KPRUNE_MEMBER(kind, string_type);
  KPRUNE_MEMBER(model, string_type);
  KPRUNE_MEMBER(task, string_type);
  KPRUNE_MEMBER(pruner, string_type);
  KPRUNE_MEMBER(flops_reduction, H5T_NATIVE_DOUBLE);
  KPRUNE_MEMBER(seed, H5T_NATIVE_INT64);
  KPRUNE_MEMBER(params, string_type);
  KPRUNE_MEMBER(status, string_type);
  KPRUNE_MEMBER(metric_name, string_type);
  KPRUNE_MEMBER(metric, H5T_NATIVE_DOUBLE);
  KPRUNE_MEMBER(teacher_metric, H5T_NATIVE_DOUBLE);
  KPRUNE_MEMBER(flops_before, H5T_NATIVE_DOUBLE);
  KPRUNE_MEMBER(flops_after, H5T_NATIVE_DOUBLE);
  KPRUNE_MEMBER(prune_time_s, H5T_NATIVE_DOUBLE);
  KPRUNE_MEMBER(eval_time_s, H5T_NATIVE_DOUBLE);
  KPRUNE_MEMBER(wall_time_s, H5T_NATIVE_DOUBLE);
  KPRUNE_MEMBER(rank, H5T_NATIVE_INT64);
  KPRUNE_MEMBER(host, string_type);
  KPRUNE_MEMBER(start_time, string_type);
  KPRUNE_MEMBER(end_time, string_type);
  KPRUNE_MEMBER(error, string_type);
#undef KPRUNE_MEMBER
  return type;
}

void replace_attribute(hid_t object, const std::string& name) {
  if (H5Aexists(object, name.c_str()) > 0) H5Adelete(object, name.c_str());
}

void write_string_attribute(hid_t object, const std::string& name, const std::string& value,
                            hid_t string_type, const std::string& path) {
  replace_attribute(object, name);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attribute(
      check(H5Acreate2(object, name.c_str(), string_type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
            path, "create attribute " + name),
      H5Aclose);
  const char* text = value.c_str();
  if (H5Awrite(attribute.get(), string_type, &text) < 0)
    fail("{}: HDF5 could not write attribute {}", path, name);
}

template <typename T>
void write_number_attribute(hid_t object, const std::string& name, T value, hid_t type,
                            const std::string& path) {
  replace_attribute(object, name);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attribute(
      check(H5Acreate2(object, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT), path,
            "create attribute " + name),
      H5Aclose);
  if (H5Awrite(attribute.get(), type, &value) < 0)
    fail("{}: HDF5 could not write attribute {}", path, name);
}

std::string read_string_attribute(hid_t object, const std::string& name, hid_t string_type) {
  if (H5Aexists(object, name.c_str()) <= 0) return "";
  Handle attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  char* text = nullptr;
  if (H5Aread(attribute.get(), string_type, &text) < 0 || text == nullptr) return "";
  std::string out(text);
  H5free_memory(text);
  return out;
}

int64_t read_int_attribute(hid_t object, const std::string& name) {
  int64_t value = -1;
  if (H5Aexists(object, name.c_str()) <= 0) return value;
  Handle attribute(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose);
  H5Aread(attribute.get(), H5T_NATIVE_INT64, &value);
  return value;
}

double value_or_nan(const std::map<std::string, double>& values, const std::string& key) {
  auto it = values.find(key);
  return it == values.end() ? kNaN : it->second;
}

std::string attr_or_empty(const std::map<std::string, std::string>& attrs, const std::string& key) {
  auto it = attrs.find(key);
  return it == attrs.end() ? "" : it->second;
}

}  // namespace

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

ResultStore::ResultStore(const std::string& path) : path_(path) {
  if (!std::filesystem::exists(path)) fail("{}: no such results file", path);
  try {
    open_existing(false);
  } catch (...) {
    close();
    throw;
  }
}

ResultStore::ResultStore(const std::string& path, const std::string& config_path,
                         const std::string& config_text)
    : path_(path), writable_(true) {
  try {
    create_or_open(config_path, config_text);
  } catch (...) {
    close();
    throw;
  }
}

void ResultStore::create_or_open(const std::string& config_path, const std::string& config_text) {
  const std::string& path = path_;
  if (std::filesystem::exists(path)) {
    open_existing(true);
  } else {
    // Errors are reported by us, with the file name, not printed from HDF5's stack.
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    string_type_ = make_string_type();
    summary_type_ = make_summary_type(string_type_);
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    file_ = check(H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT), path,
                  "create the file");
    write_number_attribute<int64_t>(file_, "schema_version", kSchemaVersion, H5T_NATIVE_INT64,
                                    path);
    write_string_attribute(file_, "kprune_version", code_version(), string_type_, path);
    write_string_attribute(file_, "created", utc_now(), string_type_, path);
    const hsize_t dims[1] = {0};
    const hsize_t max_dims[1] = {H5S_UNLIMITED};
    const hsize_t chunk[1] = {kSummaryChunkRows};
    Handle space(H5Screate_simple(1, dims, max_dims), H5Sclose);
    Handle properties(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_chunk(properties.get(), 1, chunk);
    summary_ = check(H5Dcreate2(file_, "summary", summary_type_, space.get(), H5P_DEFAULT,
                                properties.get(), H5P_DEFAULT),
                     path, "create /summary");
    Handle runs(check(H5Gcreate2(file_, "runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), path,
                      "create /runs"),
                H5Gclose);
  }
  write_string_attribute(file_, "config_path", config_path, string_type_, path);
  write_string_attribute(file_, "config_text", config_text, string_type_, path);
  H5Fflush(file_, H5F_SCOPE_GLOBAL);
}

void ResultStore::open_existing(bool writable) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  string_type_ = make_string_type();
  summary_type_ = make_summary_type(string_type_);
  refuse_if_locked(path_, writable);
  file_ = H5Fopen(path_.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file_ < 0) {
    fail("{}: cannot open the results file{} (not HDF5, damaged, or open in another sweep)", path_,
         writable ? " to resume" : "");
  }
  const int64_t version = read_int_attribute(file_, "schema_version");
  if (version != kSchemaVersion) {
    fail(
        "{}: results schema version {} found, this program writes version {}; use a new output "
        "file",
        path_, version, kSchemaVersion);
  }
  previous_config_text_ = read_string_attribute(file_, "config_text", string_type_);
  summary_ = check(H5Dopen2(file_, "summary", H5P_DEFAULT), path_, "open /summary");
  read_summary();
}

ResultStore::~ResultStore() { close(); }

void ResultStore::close() {
  if (summary_ >= 0) H5Dclose(summary_);
  if (summary_type_ >= 0) H5Tclose(summary_type_);
  if (string_type_ >= 0) H5Tclose(string_type_);
  if (file_ >= 0) H5Fclose(file_);
  summary_ = summary_type_ = string_type_ = file_ = -1;
}

void ResultStore::read_summary() {
  Handle space(H5Dget_space(summary_), H5Sclose);
  hsize_t rows = 0;
  H5Sget_simple_extent_dims(space.get(), &rows, nullptr);
  rows_ = static_cast<int64_t>(rows);
  if (rows == 0) return;
  Handle type(H5Tcreate(H5T_COMPOUND, sizeof(StoredRow)), H5Tclose);
  H5Tinsert(type.get(), "job_id", HOFFSET(StoredRow, job_id), string_type_);
  H5Tinsert(type.get(), "status", HOFFSET(StoredRow, status), string_type_);
  H5Tinsert(type.get(), "params", HOFFSET(StoredRow, params), string_type_);
  std::vector<StoredRow> stored(rows);
  if (H5Dread(summary_, type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, stored.data()) < 0) {
    fail("{}: cannot read /summary", path_);
  }
  for (const StoredRow& row : stored) {
    stored_[row.job_id != nullptr ? row.job_id : ""] = {row.status != nullptr ? row.status : "",
                                                        row.params != nullptr ? row.params : ""};
  }
  H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, stored.data());
}

void ResultStore::write(const RunRecord& record) {
  if (!writable_) fail("{}: opened read-only", path_);
  // A malformed record is the job's fault, not the file system's: refused before any write.
  for (const auto& [key, dataset] : record.result.datasets) {
    const size_t stored = dataset.type == NumericDataset::Type::kInt64 ? dataset.integers.size()
                                                                       : dataset.reals.size();
    if (static_cast<int64_t>(stored) != dataset.element_count()) {
      fail("job {}: dataset {} has {} values for its shape of {} elements", record.spec.id, key,
           stored, dataset.element_count());
    }
  }
  std::string why = moved_away();
  if (why.empty()) why = no_room_for(record);
  if (!why.empty()) {
    if (relocated_) {
      fail("{}: cannot write the result of job {}: {}; the file holds every result before it",
           path_, record.spec.id, why);
    }
    relocate(why);
  }
  try {
    write_here(record);
  } catch (const std::exception& error) {
    if (relocated_) throw;  // one rescue per run: a second failure is not the file system's
    relocate(error.what());
    write_here(record);
  }
}

std::string ResultStore::moved_away() const {
  struct stat held {};
  struct stat named {};
  if (fstat(descriptor_of(file_, path_), &held) != 0) return "";
  if (stat(path_.c_str(), &named) != 0) return "it was removed (or its folder was)";
  if (named.st_dev != held.st_dev || named.st_ino != held.st_ino)
    return "another file was moved over it";
  return "";
}

std::string ResultStore::no_room_for(const RunRecord& record) const {
  struct statvfs space {};
  if (fstatvfs(descriptor_of(file_, path_), &space) != 0) return "";
  // HDF5 rewrites metadata in place when it flushes: a flush that runs out of space half-way
  // leaves neither the old nor the new state, so a result is written only with room to spare.
  uint64_t bytes = 1 << 20;  // attributes, the summary row and HDF5 metadata fit in this
  for (const auto& [key, dataset] : record.result.datasets)
    bytes += 8 * static_cast<uint64_t>(dataset.element_count());
  const uint64_t available = static_cast<uint64_t>(space.f_bavail) * space.f_frsize;
  if (available >= 2 * bytes) return "";
  return fmt::format("its file system has {} KiB free, too little for a result of about {} KiB",
                     available / 1024, bytes / 1024);
}

void ResultStore::relocate(const std::string& why) {
  const std::string from = path_;
  std::string to, failures;
  for (const std::string& candidate : rescue_paths(from)) {
    try {
      copy_descriptor(descriptor_of(file_, from), from, candidate);
      to = candidate;
      break;
    } catch (const Error& error) {
      std::remove((candidate + ".part").c_str());
      failures += fmt::format("; {}", error.what());
    }
  }
  if (to.empty())
    fail("{}: cannot go on writing it ({}), and no rescue copy could be made{}", from, why,
         failures);
  close();
  path_ = to;
  relocated_ = true;
  open_existing(true);
  std::cerr << fmt::format(
      "sweep: WARNING: cannot go on writing the results file {}: {}. Its {} row(s), as of the "
      "last result written, were copied to {}, and this run records the rest there; resume "
      "with sweep.output={}\n",
      from, why, rows_, to, to);
}

void ResultStore::write_here(const RunRecord& record) {
  write_run_group(record);
  write_summary_row(record);
  if (H5Fflush(file_, H5F_SCOPE_GLOBAL) < 0) fail("{}: HDF5 could not flush the file", path_);
  stored_[record.spec.id] = {record.result.status, record.spec.params.canonical()};
}

void ResultStore::write_summary_row(const RunRecord& record) {
  const Params& params = record.spec.params;
  const JobResult& result = record.result;
  const std::string metric_name = attr_or_empty(result.attrs, "metric_name");
  // The row points into these strings; they live until the write.
  const std::string model = params.get_string("model", "");
  const std::string task = params.get_string("task", "");
  const std::string pruner = params.get_string("pruner", "");
  const std::string canonical = params.canonical();
  const std::string host = attr_or_empty(result.attrs, "host");
  const std::string start_time = attr_or_empty(result.attrs, "start_time");
  const std::string end_time = attr_or_empty(result.attrs, "end_time");
  SummaryRow row{record.spec.id.c_str(),
                 record.spec.kind.c_str(),
                 model.c_str(),
                 task.c_str(),
                 pruner.c_str(),
                 params.has("flops_reduction") ? params.get_double("flops_reduction", kNaN) : kNaN,
                 params.has("seed") ? params.get_int("seed", -1) : -1,
                 canonical.c_str(),
                 result.status.c_str(),
                 metric_name.c_str(),
                 value_or_nan(result.metrics, metric_name),
                 value_or_nan(result.teacher_metrics, metric_name),
                 value_or_nan(result.metrics, "flops_before"),
                 value_or_nan(result.metrics, "flops_after"),
                 value_or_nan(result.times, "prune"),
                 value_or_nan(result.times, "eval"),
                 record.wall_time_s,
                 record.rank,
                 host.c_str(),
                 start_time.c_str(),
                 end_time.c_str(),
                 result.error.c_str()};
  const hsize_t new_size[1] = {static_cast<hsize_t>(rows_ + 1)};
  if (H5Dset_extent(summary_, new_size) < 0) fail("{}: HDF5 could not extend /summary", path_);
  Handle file_space(H5Dget_space(summary_), H5Sclose);
  const hsize_t start[1] = {static_cast<hsize_t>(rows_)};
  const hsize_t count[1] = {1};
  H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
  Handle memory_space(H5Screate_simple(1, count, nullptr), H5Sclose);
  if (H5Dwrite(summary_, summary_type_, memory_space.get(), file_space.get(), H5P_DEFAULT, &row) <
      0) {
    fail("{}: HDF5 could not append the /summary row of job {}", path_, record.spec.id);
  }
  ++rows_;
}

void ResultStore::write_run_group(const RunRecord& record) {
  const std::string name = "runs/" + record.spec.id;
  // A job rerun after failure replaces its group.
  if (H5Lexists(file_, name.c_str(), H5P_DEFAULT) > 0) H5Ldelete(file_, name.c_str(), H5P_DEFAULT);
  Handle group(check(H5Gcreate2(file_, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), path_,
                     "create /" + name),
               H5Gclose);
  const hid_t id = group.get();
  const JobResult& result = record.result;
  for (const auto& [key, value] : record.spec.params.items()) {
    write_string_attribute(id, "param." + key, value, string_type_, path_);
  }
  for (const auto& [key, value] : result.metrics) {
    write_number_attribute(id, "metric." + key, value, H5T_NATIVE_DOUBLE, path_);
  }
  for (const auto& [key, value] : result.teacher_metrics) {
    write_number_attribute(id, "teacher_metric." + key, value, H5T_NATIVE_DOUBLE, path_);
  }
  for (const auto& [key, value] : result.times) {
    write_number_attribute(id, "time." + key, value, H5T_NATIVE_DOUBLE, path_);
  }
  for (const auto& [key, value] : result.attrs)
    write_string_attribute(id, key, value, string_type_, path_);
  write_string_attribute(id, "status", result.status, string_type_, path_);
  write_string_attribute(id, "error", result.error, string_type_, path_);
  write_string_attribute(id, "kind", record.spec.kind, string_type_, path_);
  write_string_attribute(id, "code_version", code_version(), string_type_, path_);
  write_number_attribute<int64_t>(id, "rank", record.rank, H5T_NATIVE_INT64, path_);
  write_number_attribute(id, "peak_rss_mb", record.peak_rss_mb, H5T_NATIVE_DOUBLE, path_);

  Handle link_creation(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(link_creation.get(), 1);
  for (const auto& [key, dataset] : result.datasets) {
    const std::vector<hsize_t> dims(dataset.shape.begin(), dataset.shape.end());
    Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
    hid_t file_type = H5T_IEEE_F64LE;
    if (dataset.type == NumericDataset::Type::kFloat32) file_type = H5T_IEEE_F32LE;
    if (dataset.type == NumericDataset::Type::kInt64) file_type = H5T_STD_I64LE;
    // A key with '/' ("curve/metric") lands in a subgroup, created on first use.
    Handle data(check(H5Dcreate2(id, key.c_str(), file_type, space.get(), link_creation.get(),
                                 H5P_DEFAULT, H5P_DEFAULT),
                      path_, "create dataset /" + name + "/" + key),
                H5Dclose);
    // HDF5 converts doubles to float32 on write.
    const herr_t status = dataset.type == NumericDataset::Type::kInt64
                              ? H5Dwrite(data.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL,
                                         H5P_DEFAULT, dataset.integers.data())
                              : H5Dwrite(data.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
                                         H5P_DEFAULT, dataset.reals.data());
    if (status < 0) fail("{}: HDF5 could not write /{}/{}", path_, name, key);
  }
}

}  // namespace kprune::sweep
