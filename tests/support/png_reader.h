#pragma once
// Decodes the PNGs core/media/png_writer writes (8-bit RGB, non-interlaced), so tests can compare
// their pixels with what went in. Undoes all five row filters rather than only the writer's Paeth, so
// the check does not lean on how the writer encodes. Header-only: the LibTorch-free suites
// (tests/shapes) do not link svgear_test_support; zlib comes with svgear_media.

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <zlib.h>

namespace svgear::test {

struct PngImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;         // [height, width, 3], row-major
  std::vector<std::string> chunks;  // the chunk types in file order
};

// Throws std::runtime_error, naming `what`, for anything but a well-formed 8-bit RGB PNG.
inline PngImage decode_png(const std::string& png, const std::string& what = "PNG") {
  const auto fail = [&](const std::string& why) { throw std::runtime_error(what + ": " + why); };
  const auto u32 = [&](size_t at) {
    return uint32_t(uint8_t(png[at])) << 24 | uint32_t(uint8_t(png[at + 1])) << 16 |
           uint32_t(uint8_t(png[at + 2])) << 8 | uint32_t(uint8_t(png[at + 3]));
  };
  if (png.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) != 0) fail("not a PNG");

  PngImage image;
  std::string idat;
  bool ended = false;
  for (size_t at = 8; !ended;) {
    if (at + 12 > png.size()) fail("truncated");
    const uint32_t length = u32(at);
    if (at + 12 + length > png.size()) fail("truncated");
    const std::string type = png.substr(at + 4, 4);
    if (u32(at + 8 + length) != crc32(0, reinterpret_cast<const Bytef*>(png.data() + at + 4), uInt(4 + length))) {
      fail("bad CRC in " + type);
    }
    const std::string data = png.substr(at + 8, length);
    image.chunks.push_back(type);
    if (type == "IHDR") {
      image.width = int(u32(at + 8));
      image.height = int(u32(at + 12));
      if (data.substr(8) != std::string("\x08\x02\x00\x00\x00", 5)) fail("not 8-bit RGB, non-interlaced");
    }
    if (type == "IDAT") idat += data;
    ended = type == "IEND";
    at += 12 + length;
  }

  const size_t row_bytes = size_t(image.width) * 3;
  std::vector<uint8_t> filtered(size_t(image.height) * (row_bytes + 1));
  uLongf size = uLongf(filtered.size());
  if (uncompress(filtered.data(), &size, reinterpret_cast<const Bytef*>(idat.data()), uLong(idat.size())) != Z_OK ||
      size != filtered.size()) {
    fail("IDAT does not inflate to " + std::to_string(image.height) + " rows");
  }
  image.rgb.resize(size_t(image.height) * row_bytes);
  for (int y = 0; y < image.height; ++y) {
    const uint8_t filter = filtered[y * (row_bytes + 1)];
    if (filter > 4) fail("unknown row filter " + std::to_string(filter));
    const uint8_t* from = &filtered[y * (row_bytes + 1) + 1];
    uint8_t* row = &image.rgb[y * row_bytes];
    const uint8_t* up = y > 0 ? row - row_bytes : nullptr;
    for (size_t i = 0; i < row_bytes; ++i) {
      const int a = i >= 3 ? row[i - 3] : 0, b = up ? up[i] : 0, c = up && i >= 3 ? up[i - 3] : 0;
      const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
      const int paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      const int predictor = filter == 0 ? 0 : filter == 1 ? a : filter == 2 ? b : filter == 3 ? (a + b) / 2 : paeth;
      row[i] = uint8_t(from[i] + predictor);
    }
  }
  return image;
}

inline PngImage read_png(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return decode_png({std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()}, path.string());
}

}  // namespace svgear::test
