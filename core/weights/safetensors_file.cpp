#include "core/weights/safetensors_file.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/io/file_system_trouble.h"

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
  throw WeightsError("cannot open the safetensors file '" + path.string() + "': " + std::string(why));
}

// Closes the descriptor when open() throws; a file that opens keeps it.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

// Reads `bytes` at `offset`, or says how much it got: a short count when the file ended first.
uint64_t read_at(int fd, uint8_t* target, uint64_t bytes, uint64_t offset, int* error) {
  uint64_t done = 0;
  while (done < bytes) {
    // pread moves at most ~2 GiB per call on Linux.
    const size_t chunk = size_t(std::min<uint64_t>(bytes - done, uint64_t(1) << 30));
    const ssize_t got = ::pread(fd, target + done, chunk, off_t(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      *error = errno;
      return done;
    }
    if (got == 0) break;
    done += uint64_t(got);
  }
  return done;
}

}  // namespace

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
  // O_NONBLOCK: opening a FIFO would otherwise wait for a writer forever.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) fail_open(path, open_failure(errno));
  FdCloser closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0) fail_open(path, std::strerror(errno));
  if (S_ISDIR(info.st_mode)) fail_open(path, "it is a folder, not a .safetensors file");
  if (!S_ISREG(info.st_mode)) fail_open(path, "it is not a regular file");

  // Not make_shared: the constructor is private.
  std::shared_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  file->file_bytes_ = uint64_t(info.st_size);
  file->modified_ = info.st_mtim;
  // The length field and the byte after it, then the header the length announces when the parser
  // will read it (a length past the file or the limit is refused from those 9 bytes alone).
  std::vector<uint8_t> head(size_t(std::min<uint64_t>(file->file_bytes_, 9)));
  int error = 0;
  if (read_at(fd, head.data(), head.size(), 0, &error) != head.size()) {
    fail_open(path, error ? std::strerror(error) : "it ended while its header was read");
  }
  if (head.size() == 9) {
    const uint64_t header_bytes = safetensors_header_length(head.data());
    if (header_bytes <= file->file_bytes_ - 8 && header_bytes <= kMaxSafetensorsHeaderBytes) {
      head.resize(size_t(8 + header_bytes));
      if (header_bytes > 1 && read_at(fd, head.data() + 9, header_bytes - 1, 9, &error) != header_bytes - 1) {
        fail_open(path, error ? std::strerror(error) : "it ended while its header was read");
      }
    }
  }
  file->header_ = parse_safetensors_header(head.data(), file->file_bytes_, path.string());
  for (size_t i = 0; i < file->header_.tensors.size(); ++i) {
    file->index_.emplace(file->header_.tensors[i].name, i);
  }
  file->fd_ = fd;
  closer.fd = -1;
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (fd_ >= 0) ::close(fd_);
}

const TensorEntry* SafetensorsFile::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &header_.tensors[it->second];
}

int64_t SafetensorsFile::tensor_bytes() const {
  int64_t bytes = 0;
  for (const TensorEntry& entry : header_.tensors) bytes += int64_t(entry.data_end - entry.data_begin);
  return bytes;
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
  // Read, not mapped: a file truncated while a mapping is read raises SIGBUS, which would end the
  // studio; a short read is an error that names the file.
  auto* target = static_cast<uint8_t*>(tensor.data_ptr());
  int error = 0;
  const uint64_t got = read_at(fd_, target, bytes, header_.data_offset + entry->data_begin, &error);
  struct stat info {};
  const bool changed = ::fstat(fd_, &info) != 0 || uint64_t(info.st_size) != file_bytes_ ||
                       info.st_mtim.tv_sec != modified_.tv_sec || info.st_mtim.tv_nsec != modified_.tv_nsec;
  if (got != bytes || changed) {
    throw WeightsError("cannot read tensor '" + std::string(name) + "' of '" + path_.string() + "': " +
                       (error ? std::string(std::strerror(error))
                              : std::string("the file changed while it was being loaded")) +
                       ". Do not replace model files during a load; load it again once it is complete.");
  }
  if (entry->dtype == WeightDtype::Bool) {
    // A bool byte other than 0 or 1 is undefined behaviour in C++ and in LibTorch's kernels.
    for (uint64_t i = 0; i < bytes; ++i) target[i] = target[i] != 0;
  }
  return tensor;
}

}  // namespace svgear
