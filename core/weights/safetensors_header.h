#pragma once
// Parsing of the safetensors container format, without LibTorch (so the fuzzer builds in seconds).
//
// Layout: [u64 little-endian header length N][N bytes of UTF-8 JSON][data section].
// The JSON maps tensor names to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative
// to the start of the data section) and may hold a "__metadata__" object of string → string.
//
// parse_safetensors_header validates everything a hostile file could get wrong: the header length
// against the file size, JSON syntax and UTF-8, dtype names, shapes (non-negative, no overflow),
// offsets inside the data section, byte counts matching dtype × shape, overlapping ranges and
// duplicate names. Every failure throws WeightsError naming the file and, where known, the tensor.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/user_error.h"

namespace svgear {

class WeightsError : public UserError {
 public:
  using UserError::UserError;
};

enum class WeightDtype { Unset, F32, F16, BF16, F8_E4M3, I64, I32, U8, Bool };

// Bytes per element; 0 for Unset.
int weight_dtype_bytes(WeightDtype dtype);
// The safetensors spelling ("F32", "BF16", "F8_E4M3", ...).
const char* weight_dtype_name(WeightDtype dtype);
// Floating point (F32, F16, BF16, F8_E4M3): what a weight may be stored as.
bool weight_dtype_is_float(WeightDtype dtype);

struct TensorEntry {
  std::string name;
  WeightDtype dtype = WeightDtype::Unset;
  std::vector<int64_t> shape;
  uint64_t data_begin = 0;  // bytes, relative to the data section
  uint64_t data_end = 0;
};

struct SafetensorsHeader {
  uint64_t data_offset = 0;  // file offset of the data section (8 + header length)
  std::vector<TensorEntry> tensors;  // in file order of data_begin
  std::map<std::string, std::string> metadata;
};

// The reference implementation refuses headers above 100 MB; a real one is a few hundred KB.
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

// The header length N of the file's first 8 bytes (little-endian).
inline uint64_t safetensors_header_length(const uint8_t* first_eight) {
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = (length << 8) | first_eight[i];
  return length;
}

// `file_data` holds the file's first 8 + N bytes (the length field and the header), or only the
// first 9 (8 in a file of 8) when N is past the file or past kMaxSafetensorsHeaderBytes (refused
// before the JSON is read); `file_size` is the whole file's size; `file_label` names the file in
// error messages.
SafetensorsHeader parse_safetensors_header(const uint8_t* file_data, uint64_t file_size,
                                           std::string_view file_label);

}  // namespace svgear
