#include "core/media/png_writer.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include <zlib.h>

#include "core/io/atomic_file.h"
#include "core/io/file_name_limit.h"
#include "core/io/unique_name.h"
#include "core/media/media_error.h"

namespace svgear {
namespace {

void append_u32(std::string& out, uint32_t value) {
  out += char(value >> 24);
  out += char(value >> 16);
  out += char(value >> 8);
  out += char(value);
}

void append_chunk(std::string& out, const char type[4], std::string_view data) {
  append_u32(out, uint32_t(data.size()));
  const size_t type_at = out.size();
  out.append(type, 4);
  out.append(data);
  // The CRC covers the chunk type and data, not the length.
  uLong crc = crc32(0, reinterpret_cast<const Bytef*>(out.data() + type_at), uInt(4 + data.size()));
  append_u32(out, uint32_t(crc));
}

uint8_t paeth(int left, int up, int up_left) {
  const int p = left + up - up_left;
  const int pa = std::abs(p - left), pb = std::abs(p - up), pc = std::abs(p - up_left);
  if (pa <= pb && pa <= pc) return uint8_t(left);
  return uint8_t(pb <= pc ? up : up_left);
}

// Every row uses the Paeth filter: on smooth generated frames it compresses best of the five, and
// one fixed filter keeps the encoder simple.
std::string paeth_filtered_rows(const uint8_t* rgb, int height, int width) {
  const size_t row_bytes = size_t(width) * 3;
  std::string out(size_t(height) * (row_bytes + 1), '\0');
  for (int y = 0; y < height; ++y) {
    const uint8_t* row = rgb + y * row_bytes;
    const uint8_t* up_row = y > 0 ? row - row_bytes : nullptr;
    char* dst = out.data() + y * (row_bytes + 1);
    dst[0] = 4;
    for (size_t i = 0; i < row_bytes; ++i) {
      const int left = i >= 3 ? row[i - 3] : 0;
      const int up = up_row ? up_row[i] : 0;
      const int up_left = up_row && i >= 3 ? up_row[i - 3] : 0;
      dst[1 + i] = char(uint8_t(row[i] - paeth(left, up, up_left)));
    }
  }
  return out;
}

constexpr std::string_view kPngSignature("\x89PNG\r\n\x1a\n", 8);
// A PNG text chunk's keyword, its NUL, then the text.
constexpr std::string_view kSoftwareText("Software\0svgear", 15);

}  // namespace

bool is_svgear_png(const std::filesystem::path& path) {
  // The signature, IHDR (4 + 4 + 13 + 4 bytes), then our tEXt chunk's length, type and text.
  constexpr size_t kTextAt = 8 + 25;
  std::string start(kTextAt + 8 + kSoftwareText.size(), '\0');
  std::ifstream in(path, std::ios::binary);
  if (!in.read(start.data(), std::streamsize(start.size()))) return false;
  return start.starts_with(kPngSignature) && start.substr(kTextAt + 4, 4) == "tEXt" &&
         start.substr(kTextAt + 8) == kSoftwareText;
}

std::string encode_png(const uint8_t* rgb, int height, int width) {
  if (height <= 0 || width <= 0) {
    throw MediaError("cannot encode a PNG of size " + std::to_string(width) + "x" +
                     std::to_string(height) + ": both sides must be positive");
  }
  const std::string rows = paeth_filtered_rows(rgb, height, width);
  uLongf compressed_size = compressBound(uLong(rows.size()));
  std::string compressed(compressed_size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(compressed.data()), &compressed_size,
                reinterpret_cast<const Bytef*>(rows.data()), uLong(rows.size()),
                Z_DEFAULT_COMPRESSION) != Z_OK) {
    throw MediaError("zlib could not compress a " + std::to_string(width) + "x" +
                     std::to_string(height) + " PNG (out of memory?)");
  }
  compressed.resize(compressed_size);

  std::string header;
  append_u32(header, uint32_t(width));
  append_u32(header, uint32_t(height));
  header += char(8);  // bit depth
  header += char(2);  // colour type: RGB
  header += char(0);  // compression: deflate
  header += char(0);  // filter method: adaptive
  header += char(0);  // no interlace

  std::string png(kPngSignature);
  append_chunk(png, "IHDR", header);
  append_chunk(png, "tEXt", kSoftwareText);  // says whose it is: is_svgear_png
  append_chunk(png, "IDAT", compressed);
  append_chunk(png, "IEND", {});
  return png;
}

void write_png(const std::filesystem::path& path, const uint8_t* rgb, int height, int width) {
  write_file_atomically(path, encode_png(rgb, height, width));
}

bool is_frame_file_name(std::string_view file_name, std::string_view stem) {
  if (!file_name.starts_with(stem) || !file_name.substr(stem.size()).starts_with("_") || !file_name.ends_with(".png")) {
    return false;
  }
  const std::string_view number = file_name.substr(stem.size() + 1, file_name.size() - stem.size() - 5);
  return !number.empty() && std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string frame_file_name(int index, int frames, std::string_view stem) {
  const size_t digits = std::max<size_t>(4, std::to_string(std::max(frames - 1, 0)).size());
  std::string number = std::to_string(index);
  number.insert(0, digits - std::min(digits, number.size()), '0');
  return std::string(stem) + "_" + number + ".png";
}

std::vector<std::filesystem::path> write_png_frames(const Video& video,
                                                    const std::filesystem::path& folder,
                                                    std::string_view stem) {
  check_video_for_output(video, folder);
  std::error_code ec;
  const bool made = !std::filesystem::exists(folder, ec);  // removed again if nothing is written in it
  std::filesystem::create_directories(folder, ec);
  if (ec || !std::filesystem::is_directory(folder)) {
    throw MediaError("cannot create the frame folder '" + folder.string() + "': " +
                     (ec ? ec.message() : "a file of that name is in the way") +
                     " (choose a writable output folder)");
  }

  // Every frame is written into a hidden staging folder first and renamed in only once all are
  // written: a write that fails (a full disk) leaves the folder's earlier frames as they were.
  remove_abandoned(folder, ".staging-frames-");  // a killed writer's
  const std::filesystem::path staging = create_unique_folder(folder, ".staging-frames-", ec);
  if (ec) throw MediaError("cannot write in the frame folder '" + folder.string() + "': " + ec.message());
  const RemovedAtScopeEnd remove_staging{staging};

  std::vector<std::string> names;
  try {
    for (int f = 0; f < video.frames; ++f) {
      names.push_back(frame_file_name(f, video.frames, stem));
      try {
        write_png(staging / names.back(), video.frame(f), video.height, video.width);
      } catch (const UserError& e) {
        // Named as the frame asked for: the staging folder is ours, and gone once this returns.
        std::string message = e.what();
        const std::string staged = shown_path(staging / names.back());
        if (const size_t at = message.find(staged); at != std::string::npos) {
          message.replace(at, staged.size(), shown_path(folder / names.back()));
        }
        throw MediaError(message);
      }
    }
  } catch (...) {  // a full disk: the folder this call made goes too, not left empty
    std::filesystem::remove_all(staging, ec);
    if (made) std::filesystem::remove(folder, ec);
    throw;
  }
  std::vector<std::filesystem::path> paths;
  for (const std::string& name : names) {
    paths.push_back(folder / name);
    std::filesystem::rename(staging / name, paths.back(), ec);
    if (ec) throw MediaError("cannot write '" + paths.back().string() + "': " + ec.message());
  }
  sync_folder(folder);
  const std::set<std::string> written(names.begin(), names.end());

  // A longer video written here before would otherwise leave its tail frames mixed in.
  std::vector<std::filesystem::path> stale;
  // Stepped with error codes: the frames are written, and a listing error must not say otherwise.
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!written.count(name) && is_frame_file_name(name, stem)) stale.push_back(it->path());
  }
  for (const auto& path : stale) std::filesystem::remove(path, ec);
  return paths;
}

}  // namespace svgear
