#include "core/media/contact_sheet.h"

#include <algorithm>
#include <string>

#include "core/media/media_error.h"

namespace svgear {
namespace {

constexpr int kFrameGap = 2;   // between frames of one clip
constexpr int kClipGap = 8;    // between clips of one row, and between rows
constexpr uint8_t kGapGrey = 40;

}  // namespace

RgbImage contact_sheet(const std::vector<std::vector<const Video*>>& rows, int frames, int scale) {
  if (rows.empty() || rows.front().empty()) throw MediaError("contact sheet: no clips");
  if (frames < 1 || scale < 1) throw MediaError("contact sheet: frames and scale must be at least 1");
  const Video& first = *rows.front().front();
  const int h = first.height * scale, w = first.width * scale;
  size_t widest = 0;
  for (const auto& row : rows) {
    widest = std::max(widest, row.size());
    for (const Video* clip : row) {
      if (clip == nullptr || clip->empty()) throw MediaError("contact sheet: an empty clip");
      if (clip->height != first.height || clip->width != first.width) {
        throw MediaError("contact sheet: clips of " + std::to_string(first.width) + "x" + std::to_string(first.height) +
                         " and " + std::to_string(clip->width) + "x" + std::to_string(clip->height) + " pixels");
      }
    }
  }
  const int clip_width = frames * w + (frames - 1) * kFrameGap;
  RgbImage sheet;
  sheet.width = int(widest) * clip_width + int(widest - 1) * kClipGap;
  sheet.height = int(rows.size()) * h + int(rows.size() - 1) * kClipGap;
  sheet.rgb.assign(size_t(sheet.height) * sheet.width * 3, kGapGrey);
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < rows[r].size(); ++c) {
      const Video& clip = *rows[r][c];
      for (int i = 0; i < frames; ++i) {
        const int f = frames == 1 ? 0 : int((int64_t(i) * (clip.frames - 1) + (frames - 1) / 2) / (frames - 1));
        const uint8_t* src = clip.frame(f);
        const int x0 = int(c) * (clip_width + kClipGap) + i * (w + kFrameGap);
        const int y0 = int(r) * (h + kClipGap);
        for (int y = 0; y < h; ++y) {
          uint8_t* dst = sheet.rgb.data() + (size_t(y0 + y) * sheet.width + x0) * 3;
          const uint8_t* line = src + size_t(y / scale) * clip.width * 3;
          for (int x = 0; x < w; ++x) std::copy_n(line + size_t(x / scale) * 3, 3, dst + size_t(x) * 3);
        }
      }
    }
  }
  return sheet;
}

}  // namespace svgear
