#include "framework/sweep/store.h"

#include <fmt/format.h>
#include <hdf5.h>

#include <cmath>
#include <ctime>
#include <filesystem>
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
    const size_t stored = dataset.type == NumericDataset::Type::kInt64 ? dataset.integers.size()
                                                                       : dataset.reals.size();
    if (static_cast<int64_t>(stored) != dataset.element_count()) {
      fail("job {}: dataset {} has {} values for its shape of {} elements", record.spec.id, key,
           stored, dataset.element_count());
    }
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
