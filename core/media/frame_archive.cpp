#include "core/media/frame_archive.h"

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <zlib.h>

#include "core/io/atomic_file.h"
#include "core/media/media_error.h"

namespace svgear {
namespace {

constexpr char kMagic[8] = {'S', 'V', 'G', 'F', 'R', 'A', 'M', '1'};
// Level 1: generated frames shrink ~2× at a few hundred MB/s; higher levels gain little on them.
constexpr int kDeflateLevel = 1;

template <typename T>
void put(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);  // the machines we build for are little endian
}

template <typename T>
bool get(std::ifstream& in, T& value) {
  return bool(in.read(reinterpret_cast<char*>(&value), sizeof value));
}

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& why) {
  throw MediaError("cannot read '" + path.string() + "': " + why);
}

}  // namespace

void write_frame_archive(const Video& video, const std::filesystem::path& path) {
  check_video_for_output(video, path);
  AtomicFile file(path);
  std::string header(kMagic, sizeof kMagic);
  put(header, int32_t(video.frames));
  put(header, int32_t(video.height));
  put(header, int32_t(video.width));
  put(header, double(video.fps));
  file.write(header);
  std::vector<Bytef> packed(compressBound(uLong(video.frame_bytes())));
  for (int f = 0; f < video.frames; ++f) {
    uLongf size = uLongf(packed.size());
    if (compress2(packed.data(), &size, video.frame(f), uLong(video.frame_bytes()), kDeflateLevel) != Z_OK) {
      throw MediaError("cannot write '" + path.string() + "': deflating frame " + std::to_string(f) + " failed");
    }
    std::string count;
    put(count, uint32_t(size));
    file.write(count);
    file.write(packed.data(), size);
  }
  file.commit();
}

bool is_frame_archive(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[sizeof kMagic];
  return in.read(magic, sizeof magic) && std::memcmp(magic, kMagic, sizeof kMagic) == 0;
}

Video read_frame_archive(const std::filesystem::path& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "the file cannot be opened");
  char magic[sizeof kMagic];
  if (!in.read(magic, sizeof magic) || std::memcmp(magic, kMagic, sizeof kMagic) != 0) {
    fail(path, "not a frame archive");
  }
  int32_t frames = 0, height = 0, width = 0;
  Video video;
  if (!get(in, frames) || !get(in, height) || !get(in, width) || !get(in, video.fps)) fail(path, "the header is truncated");
  if (frames <= 0 || height <= 0 || width <= 0 || height > kMaxVideoSide || width > kMaxVideoSide || !(video.fps > 0)) {
    fail(path, "the header's sizes are not valid");
  }
  video.height = height;
  video.width = width;
  const size_t frame_bytes = video.frame_bytes();
  if (size_t(frames) > max_bytes / frame_bytes) {
    fail(path, std::to_string(frames) + " frames of " + std::to_string(width) + "x" + std::to_string(height) +
                   " need more memory than the " + std::to_string(max_bytes) + " bytes allowed");
  }
  // Deflate shrinks at most ~1032:1, so a file too short for its frames is refused before any is
  // allocated (a damaged count of 16384² frames would take 0.8 GB each).
  std::error_code ec;
  const uintmax_t file_size = std::filesystem::file_size(path, ec);
  if (ec || uintmax_t(frames) * (sizeof(uint32_t) + frame_bytes / 2048) > file_size) {
    fail(path, "it is too short for its " + std::to_string(frames) + " frames (truncated)");
  }
  // A frame's stream can be no larger than deflate's bound; reading that much at most per frame,
  // a damaged count cannot ask for more than the frames themselves take.
  std::vector<Bytef> packed(compressBound(uLong(frame_bytes)));
  for (int f = 0; f < frames; ++f) {
    video.rgb.resize(video.rgb.size() + frame_bytes);  // as frames arrive: a header's count alone allocates nothing
    uint32_t size = 0;
    if (!get(in, size) || size > packed.size() || !in.read(reinterpret_cast<char*>(packed.data()), size)) {
      fail(path, "frame " + std::to_string(f) + " is truncated or damaged");
    }
    uLongf unpacked = uLongf(frame_bytes);
    if (uncompress(video.rgb.data() + size_t(f) * frame_bytes, &unpacked, packed.data(), size) != Z_OK ||
        unpacked != frame_bytes) {
      fail(path, "frame " + std::to_string(f) + " is damaged");
    }
    ++video.frames;
  }
  if (in.peek() != std::char_traits<char>::eof()) fail(path, "it has bytes past its last frame");
  return video;
}

}  // namespace svgear
