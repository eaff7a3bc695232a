#pragma once
// safetensors, parsed and written by us: 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}} with optional __metadata__, then the raw data.
// Files are untrusted input: every inconsistency is a kprune::Error naming the file and tensor.
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace kprune {

// F32, F16 and BF16 are returned as float32; F64 stays float64; integer and bool dtypes
// (I64, I32, I16, I8, U8, BOOL) keep their type.
std::map<std::string, torch::Tensor> load_safetensors(const std::string& path);
// Same, from bytes already in memory; `origin` names them in errors.
std::map<std::string, torch::Tensor> parse_safetensors(const std::string& bytes,
                                                       const std::string& origin);
// The tensor names of a file, reading its header only (a cheap check of a checkpoint).
std::vector<std::string> read_safetensors_names(const std::string& path);
// Tensors are written in their own dtype (float32, float64, float16, bfloat16, int64, int32,
// int16, int8, uint8, bool), from any device; the header is padded to 8-byte alignment.
void save_safetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});
std::string serialize_safetensors(const std::map<std::string, torch::Tensor>& tensors,
                                  const std::map<std::string, std::string>& metadata = {});

}  // namespace kprune
