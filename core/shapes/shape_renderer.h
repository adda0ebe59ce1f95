#pragma once
// Anti-aliased rasteriser for the shapes world: the coverage of one shape over the pixel grid,
// by supersampling an exact inside test (n×n samples per pixel), and blending that coverage
// into an RGB frame. The evaluator renders its shape templates with the same code.

#include <cstdint>
#include <vector>

#include "core/shapes/scene.h"

namespace svgear {

// Where and how big one shape is drawn, in pixels. Pixel (x, y) covers [x, x+1) × [y, y+1); y grows
// downwards. angle_rad turns the shape counter-clockwise on screen.
struct ShapePlacement {
  Shape shape = Shape::Circle;
  double centre_x = 0.0;
  double centre_y = 0.0;
  double radius_px = 1.0;  // the circle's radius; other shapes are scaled to look as big (shape_contains)
  double angle_rad = 0.0;
};

// Coverage in [0, 1] over the shape's bounding box, clipped to the image.
struct CoverageMask {
  int x0 = 0;
  int y0 = 0;
  int width = 0;
  int height = 0;
  std::vector<float> coverage;  // [height, width]

  float at(int x, int y) const { return coverage[size_t(y - y0) * width + (x - x0)]; }
};

// Is the point (u, v) inside the shape of radius 1 centred at the origin, upright (v down)?
bool shape_contains(Shape shape, double u, double v);

// The largest distance of any point of the shape from its centre, in radii: how far from the centre
// the shape can reach at any angle (used to keep shapes inside the frame).
double shape_extent(Shape shape);

// n×n samples per pixel: 4 gives 17 coverage levels, smooth enough for 8-bit edges.
inline constexpr int kRenderSamplesPerAxis = 4;

CoverageMask rasterize_shape(const ShapePlacement& placement, int image_height, int image_width,
                             int samples_per_axis = kRenderSamplesPerAxis);

// rgb ([height, width, 3]) = (1 - coverage) · rgb + coverage · colour, in sRGB values.
void blend_coverage(uint8_t* rgb, int image_height, int image_width, const CoverageMask& mask, Rgb colour);

}  // namespace svgear
