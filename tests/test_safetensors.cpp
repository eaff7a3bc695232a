// safetensors parsing and writing, including hostile files: each error names file and tensor.
#include <gtest/gtest.h>

#include "framework/model/safetensors.h"
#include "framework/util/error.h"
#include "framework/util/files.h"
#include "tests/test_support.h"

namespace kprune {
namespace {

std::string u64(uint64_t value) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return bytes;
}

// A file from a header text and raw data, written by hand (not by our writer).
std::string handmade(const std::string& header, const std::string& data) {
  return u64(header.size()) + header + data;
}

std::string load_error(const std::string& bytes) {
  const std::string path = testing::temp_dir("st") + "/bad.safetensors";
  write_file_atomic(path, bytes);
  try {
    load_safetensors(path);
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path), std::string::npos) << "message must name the file: " << message;
    return message;
  }
  ADD_FAILURE() << "expected a kprune::Error";
  return "";
}

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "in: " << (text)

TEST(Safetensors, RoundTripKeepsValuesDtypesAndMetadata) {
  std::map<std::string, torch::Tensor> tensors = {{"a", torch::randn({3, 5})},
                                                  {"b", torch::randn({2}, torch::kFloat64)},
                                                  {"ids", torch::arange(7).view({1, 7})},
                                                  {"empty", torch::zeros({0, 4})},
                                                  {"scalar", torch::tensor(2.5f)}};
  const std::string path = testing::temp_dir("st") + "/x.safetensors";
  save_safetensors(path, tensors, {{"format", "pt"}});
  const std::string bytes = read_file(path);
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i)
    header_size = (header_size << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ(header_size % 8, 0u);  // aligned data section
  const auto header = nlohmann::json::parse(bytes.substr(8, header_size));
  EXPECT_EQ(header["__metadata__"]["format"], "pt");
  EXPECT_EQ(header["b"]["dtype"], "F64");
  EXPECT_EQ(header["ids"]["dtype"], "I64");
  const auto loaded = load_safetensors(path);
  ASSERT_EQ(loaded.size(), tensors.size());
  for (const auto& [name, tensor] : tensors) {
    EXPECT_EQ(loaded.at(name).scalar_type(), tensor.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(loaded.at(name), tensor)) << name;
  }
}

TEST(Safetensors, ReadsHandWrittenF16AndBf16AsFloat32) {
  // F16: 1.0 = 0x3C00, -2.0 = 0xC000, 0.5 = 0x3800; BF16: 1.0 = 0x3F80, -3.0 = 0xC040.
  const std::string data =
      std::string("\x00\x3C\x00\xC0\x00\x38", 6) + std::string("\x80\x3F\x40\xC0", 4);
  const std::string header = R"({"h":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},)"
                             R"("b":{"dtype":"BF16","shape":[2,1],"data_offsets":[6,10]}})";
  const auto tensors = parse_safetensors(handmade(header, data), "hand");
  EXPECT_EQ(tensors.at("h").scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(tensors.at("h"), torch::tensor({1.0f, -2.0f, 0.5f})));
  EXPECT_TRUE(torch::equal(tensors.at("b"), torch::tensor({{1.0f}, {-3.0f}})));
}

TEST(Safetensors, TruncatedFile) {
  EXPECT_CONTAINS(load_error("abc"), "shorter than the 8-byte header length");
  const std::string good =
      handmade(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", std::string(8, '\0'));
  EXPECT_CONTAINS(load_error(good.substr(0, good.size() - 3)),
                  "tensor 'w': data_offsets [0, 8] lie outside the data section of 5 bytes");
}

TEST(Safetensors, LyingHeaderLength) {
  const std::string header = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  EXPECT_CONTAINS(load_error(u64(1ull << 40) + header + std::string(4, '\0')),
                  "header length 1099511627776 exceeds the file size");
  // A header length that cuts the JSON short.
  EXPECT_CONTAINS(load_error(u64(10) + header + std::string(4, '\0')), "header is not valid JSON");
}

TEST(Safetensors, OffsetsOutOfRangeOrOverlapping) {
  EXPECT_CONTAINS(load_error(handmade(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                      std::string(8, '\0'))),
                  "tensor 'w': data_offsets [4, 12] lie outside");
  EXPECT_CONTAINS(load_error(handmade(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})",
                                      std::string(8, '\0'))),
                  "tensor 'w'");
  EXPECT_CONTAINS(load_error(handmade(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                      std::string(12, '\0'))),
                  "tensor 'b': data_offsets [4, 12] overlap those of tensor 'a'");
}

TEST(Safetensors, ShapeAndDtypeSizeMismatch) {
  // F64 needs 8 bytes per value: 2 values need 16, the offsets hold 8.
  EXPECT_CONTAINS(load_error(handmade(R"({"w":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}})",
                                      std::string(8, '\0'))),
                  "tensor 'w': shape [2] of F64 needs 16 bytes but data_offsets [0, 8] hold 8");
  // A shape whose byte size overflows 64 bits must not wrap around to a small number.
  EXPECT_CONTAINS(
      load_error(handmade(
          R"({"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}})", "")),
      "tensor 'w': shape [4611686018427387904, 4] of F32 needs more than 4611686018427387904 "
      "bytes");
  EXPECT_CONTAINS(
      load_error(handmade(R"({"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,1]}})", "x")),
      "tensor 'w': unsupported dtype 'Q4'");
  EXPECT_CONTAINS(load_error(handmade(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})",
                                      std::string(8, '\0'))),
                  "tensor 'w': shape entry -2 is not a non-negative integer");
  EXPECT_CONTAINS(
      load_error(handmade(R"({"w":{"dtype":"F32","shape":[2]}})", std::string(8, '\0'))),
      "tensor 'w': 'data_offsets' must be two non-negative integers");
  EXPECT_CONTAINS(load_error(handmade(R"([1,2])", "")), "header is not a JSON object");
}

TEST(Safetensors, MissingFileNamesIt) {
  EXPECT_THROW(load_safetensors("/nonexistent/model.safetensors"), Error);
}

}  // namespace
}  // namespace kprune
