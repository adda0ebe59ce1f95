#include "core/shapes/shape_renderer.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace svgear {
namespace {

constexpr double kPi = 3.14159265358979323846;

struct Point {
  double x = 0.0;
  double y = 0.0;
};

// Regular polygon or star outline: `count` vertices alternating between the two radii, the first
// one straight up (y grows downwards).
template <int count>
std::array<Point, count> star_outline(double outer_radius, double inner_radius) {
  std::array<Point, count> points;
  for (int i = 0; i < count; ++i) {
    const double angle = -kPi / 2 + 2 * kPi * i / count;
    const double radius = i % 2 == 0 ? outer_radius : inner_radius;
    points[i] = {radius * std::cos(angle), radius * std::sin(angle)};
  }
  return points;
}

// Even-odd crossing test; works for the non-convex star.
template <size_t count>
bool polygon_contains(const std::array<Point, count>& polygon, double x, double y) {
  bool inside = false;
  for (size_t i = 0, j = count - 1; i < count; j = i++) {
    const Point& a = polygon[i];
    const Point& b = polygon[j];
    if ((a.y > y) != (b.y > y) && x < (b.x - a.x) * (y - a.y) / (b.y - a.y) + a.x) inside = !inside;
  }
  return inside;
}

// Sizes below make every shape about as heavy as the circle of the same radius (area 2.7–3.0 vs
// 3.14), so "small/medium/large" mean the same for every shape.
const std::array<Point, 3> kTriangle = [] {
  std::array<Point, 3> t;
  for (int i = 0; i < 3; ++i) {
    const double angle = -kPi / 2 + 2 * kPi * i / 3;
    t[i] = {1.5 * std::cos(angle), 1.5 * std::sin(angle)};
  }
  return t;
}();
const std::array<Point, 10> kStar = star_outline<10>(1.45, 0.65);

}  // namespace

bool shape_contains(Shape shape, double u, double v) {
  switch (shape) {
    case Shape::Circle: return u * u + v * v <= 1.0;
    case Shape::Ring: {
      const double r2 = u * u + v * v;
      return r2 <= 1.1 * 1.1 && r2 >= 0.6 * 0.6;  // the hole must stay visible when small
    }
    case Shape::Square: return std::abs(u) <= 0.87 && std::abs(v) <= 0.87;
    case Shape::Triangle: return polygon_contains(kTriangle, u, v);
    case Shape::Star: return polygon_contains(kStar, u, v);
    case Shape::Diamond: return std::abs(u) / 1.05 + std::abs(v) / 1.35 <= 1.0;
    case Shape::Cross: {
      const double au = std::abs(u);
      const double av = std::abs(v);
      return (au <= 1.1 && av <= 0.38) || (au <= 0.38 && av <= 1.1);
    }
    case Shape::Heart: {
      // (x² + y² − 1)³ ≤ x² y³, the classic heart curve (y up), shifted so its centroid is the centre.
      const double x = u * 1.15;
      const double y = -v * 1.15 + 0.3;
      const double a = x * x + y * y - 1.0;
      return a * a * a <= x * x * y * y * y;
    }
  }
  return false;
}

double shape_extent(Shape shape) {
  switch (shape) {
    case Shape::Circle: return 1.0;
    case Shape::Ring: return 1.1;
    case Shape::Square: return 0.87 * std::sqrt(2.0);
    case Shape::Triangle: return 1.5;
    case Shape::Star: return 1.45;
    case Shape::Diamond: return 1.35;
    case Shape::Cross: return std::hypot(1.1, 0.38);
    case Shape::Heart: return 1.15;
  }
  return 1.0;
}

CoverageMask rasterize_shape(const ShapePlacement& placement, int image_height, int image_width,
                             int samples_per_axis) {
  const double reach = shape_extent(placement.shape) * placement.radius_px + 1.0;
  CoverageMask mask;
  mask.x0 = std::max(0, int(std::floor(placement.centre_x - reach)));
  mask.y0 = std::max(0, int(std::floor(placement.centre_y - reach)));
  const int x1 = std::min(image_width, int(std::ceil(placement.centre_x + reach)) + 1);
  const int y1 = std::min(image_height, int(std::ceil(placement.centre_y + reach)) + 1);
  mask.width = std::max(0, x1 - mask.x0);
  mask.height = std::max(0, y1 - mask.y0);
  mask.coverage.assign(size_t(mask.width) * mask.height, 0.0f);

  // Screen offset (dx, dy) → shape frame: the inverse of a counter-clockwise turn on a y-down screen.
  const double cos_a = std::cos(placement.angle_rad);
  const double sin_a = std::sin(placement.angle_rad);
  const double inv_radius = 1.0 / placement.radius_px;
  const int n = samples_per_axis;
  const float weight = 1.0f / float(n * n);
  for (int y = mask.y0; y < y1; ++y) {
    for (int x = mask.x0; x < x1; ++x) {
      int inside = 0;
      for (int sy = 0; sy < n; ++sy) {
        const double dy = y + (sy + 0.5) / n - placement.centre_y;
        for (int sx = 0; sx < n; ++sx) {
          const double dx = x + (sx + 0.5) / n - placement.centre_x;
          const double u = (dx * cos_a - dy * sin_a) * inv_radius;
          const double v = (dx * sin_a + dy * cos_a) * inv_radius;
          inside += shape_contains(placement.shape, u, v);
        }
      }
      mask.coverage[size_t(y - mask.y0) * mask.width + (x - mask.x0)] = float(inside) * weight;
    }
  }
  return mask;
}

void blend_coverage(uint8_t* rgb, int image_height, int image_width, const CoverageMask& mask, Rgb colour) {
  const float target[3] = {float(colour.r), float(colour.g), float(colour.b)};
  for (int y = mask.y0; y < mask.y0 + mask.height; ++y) {
    for (int x = mask.x0; x < mask.x0 + mask.width; ++x) {
      const float a = mask.at(x, y);
      if (a <= 0.0f) continue;
      uint8_t* pixel = rgb + (size_t(y) * image_width + x) * 3;
      for (int c = 0; c < 3; ++c) {
        pixel[c] = uint8_t(std::lround((1.0f - a) * float(pixel[c]) + a * target[c]));
      }
    }
  }
}

}  // namespace svgear
