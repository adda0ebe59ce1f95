#include "core/media/y4m_writer.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "core/io/atomic_file.h"
#include "core/media/media_error.h"

namespace svgear {
namespace {

// Whole rates and NTSC rates (24000/1001 ...) are stored exactly, anything else to a thousandth.
std::string fps_as_rational(double fps) {
  const double whole = std::round(fps);
  if (std::abs(whole - fps) < 1e-9 * fps) return std::to_string((long long)whole) + ":1";
  const double ntsc = std::round(fps * 1.001) * 1000.0;
  if (std::abs(ntsc / 1001.0 - fps) < 1e-9 * fps) {
    return std::to_string((long long)ntsc) + ":1001";
  }
  const long long num = std::llround(fps * 1000.0), divisor = std::gcd(num, 1000LL);
  return std::to_string(num / divisor) + ":" + std::to_string(1000 / divisor);
}

uint8_t to_byte(float value) { return uint8_t(std::clamp(std::lround(value), 0L, 255L)); }

}  // namespace

std::string write_y4m(const Video& video, const std::filesystem::path& path) {
  check_video_for_output(video, path);
  AtomicFile file(path);
  // XCOLORRANGE=FULL is FFmpeg's extension for full-range samples; without it readers assume
  // limited range (16..235) and the picture would look washed out.
  file.write("YUV4MPEG2 W" + std::to_string(video.width) + " H" + std::to_string(video.height) +
             " F" + fps_as_rational(video.fps) + " Ip A1:1 C444 XCOLORRANGE=FULL\n");

  const size_t pixels = size_t(video.height) * video.width;
  std::vector<uint8_t> planes(pixels * 3);
  for (int f = 0; f < video.frames; ++f) {
    const uint8_t* rgb = video.frame(f);
    for (size_t i = 0; i < pixels; ++i) {
      const float r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
      planes[i] = to_byte(0.299f * r + 0.587f * g + 0.114f * b);
      planes[pixels + i] = to_byte(128.0f - 0.168736f * r - 0.331264f * g + 0.5f * b);
      planes[2 * pixels + i] = to_byte(128.0f + 0.5f * r - 0.418688f * g - 0.081312f * b);
    }
    file.write("FRAME\n");
    file.write(planes.data(), planes.size());
  }
  std::string checksum = file.checksum();
  file.commit();
  return checksum;
}

}  // namespace svgear
