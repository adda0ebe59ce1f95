// The contact sheet puts each clip's evenly spaced frames where the layout says, scaled, with gaps.

#include "core/media/contact_sheet.h"

#include <gtest/gtest.h>

#include "core/media/media_error.h"

namespace svgear {
namespace {

// Every pixel of frame f holds (base + f, x, y): the sheet shows which frame and pixel landed where.
Video numbered_clip(int frames, int height, int width, uint8_t base) {
  Video v;
  v.frames = frames;
  v.height = height;
  v.width = width;
  v.rgb.resize(size_t(frames) * height * width * 3);
  for (int f = 0; f < frames; ++f) {
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        uint8_t* p = v.frame(f) + (size_t(y) * width + x) * 3;
        p[0] = uint8_t(base + f);
        p[1] = uint8_t(x);
        p[2] = uint8_t(y);
      }
    }
  }
  return v;
}

const uint8_t* pixel(const RgbImage& image, int x, int y) { return image.rgb.data() + (size_t(y) * image.width + x) * 3; }

TEST(ContactSheet, LaysOutEvenlySpacedScaledFrames) {
  const Video a = numbered_clip(16, 5, 7, 0), b = numbered_clip(16, 5, 7, 100), c = numbered_clip(16, 5, 7, 200);
  const RgbImage sheet = contact_sheet({{&a, &b}, {&c}}, 4, 2);
  const int w = 14, h = 10, clip_width = 4 * w + 3 * 2;
  EXPECT_EQ(sheet.width, 2 * clip_width + 8);
  EXPECT_EQ(sheet.height, 2 * h + 8);
  const int expected_frames[] = {0, 5, 10, 15};
  for (int i = 0; i < 4; ++i) {
    const int x0 = i * (w + 2);
    EXPECT_EQ(pixel(sheet, x0, 0)[0], expected_frames[i]);                          // a, row 0
    EXPECT_EQ(pixel(sheet, clip_width + 8 + x0, 0)[0], 100 + expected_frames[i]);   // b beside it
    EXPECT_EQ(pixel(sheet, x0, h + 8)[0], 200 + expected_frames[i]);                // c, row 1
  }
  // Scaled by 2: source pixel (3, 4) covers sheet pixels (6..7, 8..9).
  EXPECT_EQ(pixel(sheet, 7, 9)[1], 3);
  EXPECT_EQ(pixel(sheet, 7, 9)[2], 4);
  EXPECT_EQ(pixel(sheet, w, 0)[0], 40);                  // the gap after the first frame
  EXPECT_EQ(pixel(sheet, clip_width + 8, h + 8)[0], 40);  // no second clip in row 1
}

TEST(ContactSheet, RejectsMismatchedOrMissingClips) {
  const Video a = numbered_clip(4, 5, 7, 0), wide = numbered_clip(4, 5, 9, 0);
  const Video empty;
  EXPECT_THROW(contact_sheet({{&a, &wide}}, 2, 1), MediaError);
  EXPECT_THROW(contact_sheet({{&a}, {&empty}}, 2, 1), MediaError);
  EXPECT_THROW(contact_sheet({}, 2, 1), MediaError);
  EXPECT_THROW(contact_sheet({{&a}}, 0, 1), MediaError);
  const RgbImage single = contact_sheet({{&a}}, 1, 1);
  EXPECT_EQ(single.width, 7);
  EXPECT_EQ(pixel(single, 0, 0)[0], 0);
}

}  // namespace
}  // namespace svgear
