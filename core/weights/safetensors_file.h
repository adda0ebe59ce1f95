#pragma once
// SafetensorsFile: an open .safetensors file whose tensors are loaded lazily, one by one.
//
//   auto file = SafetensorsFile::open("model.safetensors");   // reads + validates the header
//   at::Tensor w = file->load("blocks.0.self_attn.q.weight"); // CPU tensor, owns its memory
//
// Only the tensors that are loaded are read from disk, with pread (not a mapping: a file truncated
// under a mapping raises SIGBUS). A file whose size or modification time changes after open() is
// refused at the next load, so a model replaced during a long load never mixes two files' tensors.
// Errors throw WeightsError naming the file and the tensor.

#include <ctime>
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include <ATen/core/Tensor.h>

#include "core/weights/safetensors_header.h"

namespace svgear {

class SafetensorsFile {
 public:
  static std::shared_ptr<SafetensorsFile> open(const std::filesystem::path& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  const std::vector<TensorEntry>& tensors() const { return header_.tensors; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  const TensorEntry* find(std::string_view name) const;  // nullptr when absent
  bool contains(std::string_view name) const { return find(name) != nullptr; }
  int64_t tensor_bytes() const;  // of every tensor together: what a load of them all reads

  // A contiguous CPU tensor with the stored dtype (F8_E4M3 → at::kFloat8_e4m3fn, Bool → at::kBool).
  at::Tensor load(std::string_view name) const;

 private:
  SafetensorsFile() = default;
  std::filesystem::path path_;
  SafetensorsHeader header_;
  std::map<std::string, size_t, std::less<>> index_;  // name → position in header_.tensors
  int fd_ = -1;
  uint64_t file_bytes_ = 0;
  std::timespec modified_{};  // st_mtim at open
};

}  // namespace svgear
