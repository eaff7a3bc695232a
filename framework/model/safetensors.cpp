#include "framework/model/safetensors.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "framework/util/error.h"
#include "framework/util/files.h"

namespace kprune {
namespace {

struct DtypeInfo {
  const char* name;
  torch::ScalarType stored;  // type of the bytes in the file
  int64_t item_size;
};

const std::vector<DtypeInfo>& dtypes() {
  static const std::vector<DtypeInfo> table = {
      {"F32", torch::kFloat32, 4}, {"F16", torch::kFloat16, 2}, {"BF16", torch::kBFloat16, 2},
      {"F64", torch::kFloat64, 8}, {"I64", torch::kInt64, 8},   {"I32", torch::kInt32, 4},
      {"I16", torch::kInt16, 2},   {"I8", torch::kInt8, 1},     {"U8", torch::kUInt8, 1},
      {"BOOL", torch::kBool, 1}};
  return table;
}

const DtypeInfo* find_dtype(const std::string& name) {
  for (const auto& info : dtypes()) {
    if (name == info.name) return &info;
  }
  return nullptr;
}

const DtypeInfo& dtype_of(torch::ScalarType type, const std::string& tensor_name) {
  for (const auto& info : dtypes()) {
    if (info.stored == type) return info;
  }
  fail("safetensors: tensor '{}' has dtype {}, which safetensors cannot store", tensor_name,
       c10::toString(type));
}

std::vector<std::string> dtype_names() {
  std::vector<std::string> names;
  for (const auto& info : dtypes()) names.push_back(info.name);
  return names;
}

uint64_t read_u64_le(const char* bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

std::string u64_le(uint64_t value) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return bytes;
}

struct Entry {
  std::string name;
  const DtypeInfo* dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
};

Entry parse_entry(const std::string& origin, const std::string& name, const nlohmann::json& spec,
                  uint64_t data_size) {
  auto bad = [&](const std::string& what) -> Entry {
    fail("{}: tensor '{}': {}", origin, name, what);
  };
  if (!spec.is_object()) return bad("header entry is not an object");
  if (!spec.contains("dtype") || !spec["dtype"].is_string()) return bad("missing string 'dtype'");
  Entry entry;
  entry.name = name;
  const std::string dtype = spec["dtype"].get<std::string>();
  entry.dtype = find_dtype(dtype);
  if (entry.dtype == nullptr) {
    return bad(fmt::format("unsupported dtype '{}' (supported: {})", dtype,
                           fmt::join(dtype_names(), ", ")));
  }
  if (!spec.contains("shape") || !spec["shape"].is_array()) return bad("missing list 'shape'");
  // numel * item size with an overflow guard: a lying shape must not wrap around.
  constexpr uint64_t kLimit = uint64_t{1} << 62;
  uint64_t byte_size = static_cast<uint64_t>(entry.dtype->item_size);
  bool too_large = false;
  for (const auto& dim : spec["shape"]) {
    if (!dim.is_number_unsigned()) {
      return bad(fmt::format("shape entry {} is not a non-negative integer", dim.dump()));
    }
    const uint64_t size = dim.get<uint64_t>();
    // Tensor sizes are int64: a larger entry would turn negative (with a zero elsewhere in the
    // shape, the byte count alone does not catch it).
    if (size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return bad(fmt::format("shape entry {} exceeds the largest tensor size {}", size,
                             std::numeric_limits<int64_t>::max()));
    }
    if (size != 0 && byte_size > kLimit / size) too_large = true;
    byte_size = too_large ? kLimit : byte_size * size;
    entry.shape.push_back(static_cast<int64_t>(size));
  }
  const auto& offsets = spec.value("data_offsets", nlohmann::json());
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned()) {
    return bad("'data_offsets' must be two non-negative integers");
  }
  entry.begin = offsets[0].get<uint64_t>();
  entry.end = offsets[1].get<uint64_t>();
  if (entry.begin > entry.end || entry.end > data_size) {
    return bad(fmt::format("data_offsets [{}, {}] lie outside the data section of {} bytes",
                           entry.begin, entry.end, data_size));
  }
  if (too_large || entry.end - entry.begin != byte_size) {
    const std::string needed =
        too_large ? fmt::format("more than {}", kLimit) : std::to_string(byte_size);
    return bad(fmt::format("shape [{}] of {} needs {} bytes but data_offsets [{}, {}] hold {}",
                           fmt::join(entry.shape, ", "), dtype, needed, entry.begin, entry.end,
                           entry.end - entry.begin));
  }
  return entry;
}

// The JSON header that follows the 8-byte length at `bytes` (of a file of `file_size` bytes).
nlohmann::json parse_header(const char* bytes, uint64_t header_size, uint64_t file_size,
                            const std::string& origin) {
  if (header_size > file_size - 8) {
    fail("{}: header length {} exceeds the file size {} (truncated or not safetensors)", origin,
         header_size, file_size);
  }
  nlohmann::json header;
  // Besides parse_error, parsing throws out_of_range for a number beyond double (1e999).
  try {
    header = nlohmann::json::parse(bytes + 8, bytes + 8 + header_size);
  } catch (const nlohmann::json::exception& error) {
    fail("{}: header is not valid JSON: {}", origin, error.what());
  }
  if (!header.is_object()) fail("{}: header is not a JSON object", origin);
  return header;
}

}  // namespace

std::map<std::string, torch::Tensor> parse_safetensors(const std::string& bytes,
                                                       const std::string& origin) {
  if (bytes.size() < 8) {
    fail("{}: not a safetensors file: {} bytes, shorter than the 8-byte header length", origin,
         bytes.size());
  }
  const uint64_t header_size = read_u64_le(bytes.data());
  const nlohmann::json header = parse_header(bytes.data(), header_size, bytes.size(), origin);

  const uint64_t data_size = bytes.size() - 8 - header_size;
  const char* data = bytes.data() + 8 + header_size;
  std::vector<Entry> entries;
  for (const auto& [name, spec] : header.items()) {
    if (name == "__metadata__") continue;
    entries.push_back(parse_entry(origin, name, spec, data_size));
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < entries.size(); ++i) {
    const Entry& previous = entries[i - 1];
    if (entries[i].begin < previous.end && entries[i].end > entries[i].begin) {
      fail("{}: tensor '{}': data_offsets [{}, {}] overlap those of tensor '{}' [{}, {}]", origin,
           entries[i].name, entries[i].begin, entries[i].end, previous.name, previous.begin,
           previous.end);
    }
  }

  std::map<std::string, torch::Tensor> tensors;
  for (const Entry& entry : entries) {
    torch::Tensor tensor = torch::empty(entry.shape, torch::dtype(entry.dtype->stored));
    if (entry.end > entry.begin) {
      std::memcpy(tensor.data_ptr(), data + entry.begin, entry.end - entry.begin);
    }
    const auto stored = entry.dtype->stored;
    if (stored == torch::kFloat16 || stored == torch::kBFloat16)
      tensor = tensor.to(torch::kFloat32);
    tensors.emplace(entry.name, tensor);
  }
  return tensors;
}

std::vector<std::string> read_safetensors_names(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path);
  const uint64_t file_size = std::filesystem::file_size(path);
  if (file_size < 8) {
    fail("{}: not a safetensors file: {} bytes, shorter than the 8-byte header length", path,
         file_size);
  }
  std::string bytes(8, '\0');
  in.read(bytes.data(), 8);
  const uint64_t header_size = read_u64_le(bytes.data());
  if (header_size <= file_size - 8) {
    bytes.resize(8 + header_size);
    in.read(bytes.data() + 8, static_cast<std::streamsize>(header_size));
    if (!in) fail("{}: cannot read its header of {} bytes", path, header_size);
  }
  const nlohmann::json header = parse_header(bytes.data(), header_size, file_size, path);
  std::vector<std::string> names;
  for (const auto& item : header.items())
    if (item.key() != "__metadata__") names.push_back(item.key());
  return names;
}

std::map<std::string, torch::Tensor> load_safetensors(const std::string& path) {
  return parse_safetensors(read_file(path), path);
}

std::string serialize_safetensors(const std::map<std::string, torch::Tensor>& tensors,
                                  const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> contiguous;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (!tensor.defined()) fail("safetensors: tensor '{}' is undefined", name);
    const DtypeInfo& info = dtype_of(tensor.scalar_type(), name);
    torch::Tensor cpu = tensor.detach().to(torch::kCPU).contiguous();
    const uint64_t size = static_cast<uint64_t>(cpu.numel()) * info.item_size;
    header[name] = {{"dtype", info.name},
                    {"shape", cpu.sizes().vec()},
                    {"data_offsets", {offset, offset + size}}};
    offset += size;
    contiguous.push_back(cpu);
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');

  std::string bytes = u64_le(header_text.size()) + header_text;
  bytes.reserve(bytes.size() + offset);
  for (const auto& tensor : contiguous) {
    bytes.append(static_cast<const char*>(tensor.data_ptr()),
                 static_cast<size_t>(tensor.numel() * tensor.element_size()));
  }
  return bytes;
}

void save_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  write_file_atomic(path, serialize_safetensors(tensors, metadata));
}

}  // namespace kprune
