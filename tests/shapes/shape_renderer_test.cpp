#include "core/shapes/shape_renderer.h"

#include <gtest/gtest.h>

#include <cmath>

namespace svgear {
namespace {

constexpr double kPi = 3.14159265358979323846;

double total(const CoverageMask& mask) {
  double sum = 0.0;
  for (float c : mask.coverage) sum += c;
  return sum;
}

TEST(ShapeRenderer, EdgePixelsAreBlendsAndInsidePixelsAreFull) {
  const CoverageMask mask = rasterize_shape({Shape::Circle, 32.3, 31.7, 10.0, 0.0}, 64, 64);
  int partial = 0;
  for (float c : mask.coverage) partial += c > 0.0f && c < 1.0f;
  EXPECT_GT(partial, 40);  // the whole rim, ~2π·10 pixels
  EXPECT_FLOAT_EQ(mask.at(32, 31), 1.0f);
  EXPECT_FLOAT_EQ(mask.at(mask.x0, mask.y0), 0.0f);
  EXPECT_NEAR(total(mask), kPi * 100.0, 0.01 * kPi * 100.0);
}

TEST(ShapeRenderer, EveryShapeIsAboutAsHeavyAsTheCircleAndStaysWithinItsExtent) {
  for (int s = 0; s < kShapeCount; ++s) {
    const Shape shape = Shape(s);
    SCOPED_TRACE(std::string(shape_name(shape)));
    const double area = total(rasterize_shape({shape, 100.0, 100.0, 40.0, 0.3}, 200, 200)) / (40.0 * 40.0);
    EXPECT_GT(area, 2.6);
    EXPECT_LT(area, 3.2);
    bool reaches_out = false;  // the extent is tight: some point lies within 2% of it
    for (int k = 0; k < 3600; ++k) {
      const double angle = 2 * kPi * k / 3600;
      const double e = shape_extent(shape);
      EXPECT_FALSE(shape_contains(shape, 1.001 * e * std::cos(angle), 1.001 * e * std::sin(angle)));
      reaches_out =
          reaches_out || shape_contains(shape, 0.98 * e * std::cos(angle), 0.98 * e * std::sin(angle));
    }
    EXPECT_TRUE(reaches_out);
  }
}

TEST(ShapeRenderer, RingHasAHoleAndTriangleTurns) {
  EXPECT_FALSE(shape_contains(Shape::Ring, 0.0, 0.0));
  EXPECT_TRUE(shape_contains(Shape::Ring, 0.85, 0.0));
  // Upright, the triangle's apex is up (y down): turned by 180° it is down.
  EXPECT_TRUE(shape_contains(Shape::Triangle, 0.0, -1.3));
  const CoverageMask up = rasterize_shape({Shape::Triangle, 32.0, 32.0, 10.0, 0.0}, 64, 64);
  const CoverageMask down = rasterize_shape({Shape::Triangle, 32.0, 32.0, 10.0, kPi}, 64, 64);
  EXPECT_GT(up.at(31, 19), 0.5f);
  EXPECT_LT(down.at(31, 19), 0.5f);
  EXPECT_GT(down.at(31, 45), 0.5f);
}

TEST(ShapeRenderer, BlendMixesColourByCoverage) {
  std::vector<uint8_t> rgb(8 * 8 * 3, 0);
  CoverageMask mask;
  mask.x0 = 2;
  mask.y0 = 3;
  mask.width = 2;
  mask.height = 1;
  mask.coverage = {1.0f, 0.5f};
  blend_coverage(rgb.data(), 8, 8, mask, Rgb{200, 100, 50});
  const uint8_t* full = rgb.data() + (3 * 8 + 2) * 3;
  const uint8_t* half = rgb.data() + (3 * 8 + 3) * 3;
  EXPECT_EQ(full[0], 200);
  EXPECT_EQ(full[1], 100);
  EXPECT_EQ(half[0], 100);
  EXPECT_EQ(half[2], 25);
  EXPECT_EQ(rgb[0], 0);
}

}  // namespace
}  // namespace svgear
