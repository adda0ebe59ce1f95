#include "core/weights/safetensors_file.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace svgear {
namespace {

at::ScalarType to_scalar_type(WeightDtype dtype) {
  switch (dtype) {
    case WeightDtype::F32: return at::kFloat;
    case WeightDtype::F16: return at::kHalf;
    case WeightDtype::BF16: return at::kBFloat16;
    case WeightDtype::F8_E4M3: return at::kFloat8_e4m3fn;
    case WeightDtype::I64: return at::kLong;
    case WeightDtype::I32: return at::kInt;
    case WeightDtype::U8: return at::kByte;
    case WeightDtype::Bool: return at::kBool;
    case WeightDtype::Unset: break;
  }
  throw WeightsError("internal error: tensor entry without a dtype");
}

[[noreturn]] void fail_open(const std::filesystem::path& path, std::string_view why) {
  throw WeightsError("cannot open weights file '" + path.string() + "': " + std::string(why));
}

// Closes the descriptor on every path out of open(); the mapping outlives it.
struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

}  // namespace

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
  // O_NONBLOCK: opening a FIFO would otherwise wait for a writer forever.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) fail_open(path, "no such file (check the path)");
    if (err == EACCES) fail_open(path, "permission denied (make the file readable)");
    fail_open(path, std::strerror(err));
  }
  FdCloser closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0) fail_open(path, std::strerror(errno));
  if (S_ISDIR(info.st_mode)) fail_open(path, "it is a folder, not a .safetensors file");
  if (!S_ISREG(info.st_mode)) fail_open(path, "it is not a regular file");

  // Not make_shared: the constructor is private.
  std::shared_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  file->map_bytes_ = static_cast<uint64_t>(info.st_size);
  if (file->map_bytes_ > 0) {
    void* map = ::mmap(nullptr, file->map_bytes_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      int err = errno;
      if (err == EISDIR) fail_open(path, "it is a folder, not a .safetensors file");
      fail_open(path, std::string("mapping it into memory failed: ") + std::strerror(err));
    }
    file->map_ = static_cast<const uint8_t*>(map);
  }
  file->header_ = parse_safetensors_header(file->map_, file->map_bytes_, path.string());
  for (size_t i = 0; i < file->header_.tensors.size(); ++i) {
    file->index_.emplace(file->header_.tensors[i].name, i);
  }
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(const_cast<uint8_t*>(map_), map_bytes_);
}

const TensorEntry* SafetensorsFile::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &header_.tensors[it->second];
}

at::Tensor SafetensorsFile::load(std::string_view name) const {
  const TensorEntry* entry = find(name);
  if (!entry) {
    throw WeightsError("'" + path_.string() + "' has no tensor '" + std::string(name) +
                       "' (the file does not match this model: check that it is the right one)");
  }
  at::Tensor tensor =
      at::empty(entry->shape, at::TensorOptions().dtype(to_scalar_type(entry->dtype)));
  uint64_t bytes = entry->data_end - entry->data_begin;
  if (bytes == 0) return tensor;
  // The data section has no alignment guarantee, so copy bytewise rather than view the mapping.
  const uint8_t* source = map_ + header_.data_offset + entry->data_begin;
  auto* target = static_cast<uint8_t*>(tensor.data_ptr());
  if (entry->dtype == WeightDtype::Bool) {
    // A bool byte other than 0 or 1 is undefined behaviour in C++ and in LibTorch's kernels.
    for (uint64_t i = 0; i < bytes; ++i) target[i] = source[i] != 0;
  } else {
    std::memcpy(target, source, bytes);
  }
  return tensor;
}

}  // namespace svgear
