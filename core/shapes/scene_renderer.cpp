#include "core/shapes/scene_renderer.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/shapes/seeded_random.h"
#include "core/user_error.h"

namespace svgear {
namespace {

constexpr double kPi = 3.14159265358979323846;

Rgb mix(Rgb a, Rgb b, double t) {
  auto channel = [t](uint8_t x, uint8_t y) { return uint8_t(std::lround(x + (double(y) - x) * t)); };
  return {channel(a.r, b.r), channel(a.g, b.g), channel(a.b, b.b)};
}

// The second colour of stripes and checkerboards: the colour pushed towards white, or towards
// black for light colours, so both stay recognisably the named colour.
Rgb shade_of(Rgb colour) {
  const double luma = 0.299 * colour.r + 0.587 * colour.g + 0.114 * colour.b;
  return luma > 150 ? mix(colour, Rgb{0, 0, 0}, 0.3) : mix(colour, Rgb{255, 255, 255}, 0.35);
}

constexpr Rgb kSkyTop{60, 120, 215};
constexpr Rgb kSkyBottom{175, 215, 250};
constexpr Rgb kSunsetTop{70, 40, 120};
constexpr Rgb kSunsetMiddle{215, 85, 85};
constexpr Rgb kSunsetBottom{250, 175, 60};

Rgb gradient_at(BackgroundKind kind, double t) {  // t: 0 at the top row, 1 at the bottom
  if (kind == BackgroundKind::Sky) return mix(kSkyTop, kSkyBottom, t);
  return t < 0.55 ? mix(kSunsetTop, kSunsetMiddle, t / 0.55)
                  : mix(kSunsetMiddle, kSunsetBottom, (t - 0.55) / 0.45);
}

// Stripe period and checker cell pairs: 16 px at 64×64, scaling with the frame.
int pattern_period_px(int height, int width) {
  return std::max(4, int(std::lround(std::min(height, width) / 4.0)));
}

// Smooth value noise in [-1, 1]: random values on a grid of `cell` pixels, bilinearly interpolated.
std::vector<float> value_noise(int height, int width, int cell, uint64_t seed) {
  const int grid_w = width / cell + 2;
  const int grid_h = height / cell + 2;
  SeededRandom random(seed, 0x6e6f697365);  // "noise"
  std::vector<float> grid(size_t(grid_w) * grid_h);
  for (auto& g : grid) g = float(random.uniform(-1.0, 1.0));
  std::vector<float> noise(size_t(height) * width);
  for (int y = 0; y < height; ++y) {
    const double gy = double(y) / cell;
    const int iy = int(gy);
    const double fy = gy - iy;
    for (int x = 0; x < width; ++x) {
      const double gx = double(x) / cell;
      const int ix = int(gx);
      const double fx = gx - ix;
      auto g = [&](int dx, int dy) { return grid[size_t(iy + dy) * grid_w + ix + dx]; };
      const double top = g(0, 0) * (1 - fx) + g(1, 0) * fx;
      const double bottom = g(0, 1) * (1 - fx) + g(1, 1) * fx;
      noise[size_t(y) * width + x] = float(top * (1 - fy) + bottom * fy);
    }
  }
  return noise;
}

struct Span {
  double low = 0.0;
  double high = 0.0;
};

// The centres that keep a shape of reach m inside [0, side]; the middle when it cannot fit.
Span free_span(int side, double reach) {
  if (2 * reach >= side) return {side / 2.0, side / 2.0};
  return {reach, side - reach};
}

std::vector<ShapePlacement> plan_object(const SceneObject& object, ClipSize size, SeededRandom& random) {
  const int smaller_side = std::min(size.height, size.width);
  const double radius = size_radius_fraction(object.size) * smaller_side;
  const bool scales = object.motion == Motion::Grow || object.motion == Motion::Shrink;
  const double reach = shape_extent(object.shape) * radius * (scales ? kGrowShrinkMaxScale : 1.0) + 1.0;
  const Span span_x = free_span(size.width, reach);
  const Span span_y = free_span(size.height, reach);

  std::vector<ShapePlacement> track(size.frames);
  auto time_at = [&](int f) { return size.frames > 1 ? double(f) / (size.frames - 1) : 0.0; };
  auto place = [&](int f, double x, double y, double scale, double angle) {
    track[f] = {object.shape, x, y, radius * scale, angle};
  };

  int dir_x = 0;
  int dir_y = 0;
  switch (object.motion) {
    case Motion::Left: dir_x = -1; break;
    case Motion::Right: dir_x = 1; break;
    case Motion::Up: dir_y = -1; break;
    case Motion::Down: dir_y = 1; break;
    case Motion::UpLeft:
      dir_x = -1;
      dir_y = -1;
      break;
    case Motion::UpRight:
      dir_x = 1;
      dir_y = -1;
      break;
    case Motion::DownLeft:
      dir_x = -1;
      dir_y = 1;
      break;
    case Motion::DownRight:
      dir_x = 1;
      dir_y = 1;
      break;
    default: break;
  }

  switch (object.motion) {
    case Motion::Left:
    case Motion::Right:
    case Motion::Up:
    case Motion::Down:
    case Motion::UpLeft:
    case Motion::UpRight:
    case Motion::DownLeft:
    case Motion::DownRight: {
      const double width_x = span_x.high - span_x.low;
      const double width_y = span_y.high - span_y.low;
      const double free =
          dir_x != 0 && dir_y != 0 ? std::min(width_x, width_y) : (dir_x != 0 ? width_x : width_y);
      const double travel = random.uniform(0.6, 0.9) * free;
      // Start anywhere the whole path fits: moving +x starts in [low, high − travel].
      auto start_on = [&](Span span, int dir) {
        if (dir == 0) return random.uniform(span.low, span.high);
        const double start = random.uniform(span.low, span.high - travel);
        return dir > 0 ? start : start + travel;
      };
      const double x0 = start_on(span_x, dir_x);
      const double y0 = start_on(span_y, dir_y);
      for (int f = 0; f < size.frames; ++f) {
        place(f, x0 + dir_x * travel * time_at(f), y0 + dir_y * travel * time_at(f), 1.0, 0.0);
      }
      break;
    }
    case Motion::Bounce: {
      const double x = random.uniform(span_x.low, span_x.high);
      const double height = random.uniform(0.5, 0.8) * (span_y.high - span_y.low);
      const double phase = random.uniform(0.0, kBouncePeriodFrames);
      for (int f = 0; f < size.frames; ++f) {
        const double lift = std::abs(std::sin(kPi * (f + phase) / kBouncePeriodFrames));
        place(f, x, span_y.high - height * lift, 1.0, 0.0);
      }
      break;
    }
    case Motion::Orbit: {
      const double max_radius = std::min(span_x.high - span_x.low, span_y.high - span_y.low) / 2;
      const double orbit_radius = std::min(random.uniform(0.18, 0.26) * smaller_side, max_radius);
      const double cx = random.uniform(span_x.low + orbit_radius, span_x.high - orbit_radius);
      const double cy = random.uniform(span_y.low + orbit_radius, span_y.high - orbit_radius);
      const double phase = random.uniform(0.0, 2 * kPi);
      for (int f = 0; f < size.frames; ++f) {
        const double angle = phase + 2 * kPi * f / kOrbitPeriodFrames;
        place(f, cx + orbit_radius * std::cos(angle), cy - orbit_radius * std::sin(angle), 1.0, 0.0);
      }
      break;
    }
    case Motion::Still:
    case Motion::Grow:
    case Motion::Shrink:
    case Motion::Spin: {
      const double x = random.uniform(span_x.low, span_x.high);
      const double y = random.uniform(span_y.low, span_y.high);
      const double start_angle = object.motion == Motion::Spin ? random.uniform(0.0, 2 * kPi) : 0.0;
      for (int f = 0; f < size.frames; ++f) {
        const double t = time_at(f);
        double scale = 1.0;
        if (object.motion == Motion::Grow)
          scale = kGrowShrinkMinScale + (kGrowShrinkMaxScale - kGrowShrinkMinScale) * t;
        if (object.motion == Motion::Shrink)
          scale = kGrowShrinkMaxScale - (kGrowShrinkMaxScale - kGrowShrinkMinScale) * t;
        const double angle =
            object.motion == Motion::Spin ? start_angle + 2 * kPi * f / kSpinPeriodFrames : 0.0;
        place(f, x, y, scale, angle);
      }
      break;
    }
  }
  return track;
}

// Objects should not hide each other: each object's path is drawn up to this many times, keeping
// the first that never overlaps the objects before it, or else the one that comes least close.
// With one draw, 6% of objects in random 64×64 scenes were misjudged by the evaluator, mostly
// because another object covered them for most of the clip.
constexpr int kPlacementAttempts = 16;

// The smallest gap over the clip between `track` and the objects already placed (negative:
// their reaching circles overlap by that much).
double closest_approach(const std::vector<ShapePlacement>& track,
                        const std::vector<std::vector<ShapePlacement>>& placed) {
  double clearance = 1e9;
  for (size_t f = 0; f < track.size(); ++f) {
    const ShapePlacement& a = track[f];
    for (const ShapePlacement& b : placed[f]) {
      const double gap = std::hypot(a.centre_x - b.centre_x, a.centre_y - b.centre_y) -
                         shape_extent(a.shape) * a.radius_px - shape_extent(b.shape) * b.radius_px;
      clearance = std::min(clearance, gap);
    }
  }
  return clearance;
}

void check_scene(const SceneSpec& spec, ClipSize size) {
  if (size.frames < 1 || size.height < 8 || size.width < 8) {
    throw UserError("shapes world: a clip needs at least 1 frame of 8×8 pixels, not " +
                    std::to_string(size.frames) + " frames of " + std::to_string(size.width) + "×" +
                    std::to_string(size.height));
  }
  if (spec.objects.empty() || int(spec.objects.size()) > kMaxSceneObjects) {
    throw UserError("shapes world: a scene has 1 to " + std::to_string(kMaxSceneObjects) + " objects, not " +
                    std::to_string(spec.objects.size()));
  }
}

}  // namespace

double size_radius_fraction(Size size) {
  switch (size) {
    case Size::Small: return 0.10;
    case Size::Medium: return 0.14;
    case Size::Large: return 0.19;
  }
  return 0.14;
}

std::vector<std::vector<ShapePlacement>> plan_scene(const SceneSpec& spec, ClipSize size, uint64_t seed) {
  check_scene(spec, size);
  std::vector<std::vector<ShapePlacement>> placements(size.frames);
  for (size_t i = 0; i < spec.objects.size(); ++i) {
    SeededRandom random(seed, i);
    std::vector<ShapePlacement> best;
    double best_clearance = -1e9;
    for (int attempt = 0; attempt < kPlacementAttempts && best_clearance < 0; ++attempt) {
      std::vector<ShapePlacement> track = plan_object(spec.objects[i], size, random);
      const double clearance = closest_approach(track, placements);
      if (clearance > best_clearance) {
        best_clearance = clearance;
        best = std::move(track);
      }
    }
    for (int f = 0; f < size.frames; ++f) placements[f].push_back(best[f]);
  }
  return placements;
}

std::vector<uint8_t> render_background(const Background& background, int height, int width, uint64_t seed) {
  std::vector<uint8_t> rgb(size_t(height) * width * 3);
  const Rgb colour = colour_rgb(background.colour);
  const Rgb shade = shade_of(colour);
  const int period = pattern_period_px(height, width);
  std::vector<float> noise;
  if (background.kind == BackgroundKind::Noise) {
    noise = value_noise(height, width, std::max(2, std::min(height, width) / 16), seed);
  }
  for (int y = 0; y < height; ++y) {
    const Rgb row = gradient_at(background.kind, height > 1 ? double(y) / (height - 1) : 0.0);
    for (int x = 0; x < width; ++x) {
      Rgb pixel = colour;
      switch (background.kind) {
        case BackgroundKind::Solid: break;
        case BackgroundKind::Sky:
        case BackgroundKind::Sunset: pixel = row; break;
        case BackgroundKind::Stripes: pixel = (x % period) < period / 2 ? colour : shade; break;
        case BackgroundKind::Checker:
          pixel = ((x % period) < period / 2) == ((y % period) < period / 2) ? colour : shade;
          break;
        case BackgroundKind::Noise: {
          const int offset = int(std::lround(kNoiseAmplitude * noise[size_t(y) * width + x]));
          auto add = [offset](uint8_t c) { return uint8_t(std::clamp(int(c) + offset, 0, 255)); };
          pixel = {add(colour.r), add(colour.g), add(colour.b)};
          break;
        }
      }
      uint8_t* out = rgb.data() + (size_t(y) * width + x) * 3;
      out[0] = pixel.r;
      out[1] = pixel.g;
      out[2] = pixel.b;
    }
  }
  return rgb;
}

std::vector<Rgb> background_palette(const Background& background) {
  const Rgb colour = colour_rgb(background.colour);
  switch (background.kind) {
    case BackgroundKind::Solid:
    case BackgroundKind::Noise: return {colour};
    case BackgroundKind::Stripes:
    case BackgroundKind::Checker: return {colour, shade_of(colour)};
    case BackgroundKind::Sky:
    case BackgroundKind::Sunset: {
      std::vector<Rgb> samples;
      for (int i = 0; i <= 8; ++i) samples.push_back(gradient_at(background.kind, i / 8.0));
      return samples;
    }
  }
  return {colour};
}

Video render_scene(const SceneSpec& spec, ClipSize size, uint64_t seed, std::vector<uint8_t>* object_coverage) {
  const std::vector<std::vector<ShapePlacement>> placements = plan_scene(spec, size, seed);
  const std::vector<uint8_t> background = render_background(spec.background, size.height, size.width, seed);
  Video video;
  video.frames = size.frames;
  video.height = size.height;
  video.width = size.width;
  video.rgb.resize(size_t(size.frames) * video.frame_bytes());
  const size_t frame_pixels = size_t(size.height) * size.width;
  if (object_coverage) object_coverage->assign(size_t(size.frames) * frame_pixels, 0);
  for (int f = 0; f < size.frames; ++f) {
    uint8_t* frame = video.frame(f);
    std::copy(background.begin(), background.end(), frame);
    for (size_t i = 0; i < spec.objects.size(); ++i) {
      const CoverageMask mask = rasterize_shape(placements[f][i], size.height, size.width);
      blend_coverage(frame, size.height, size.width, mask, colour_rgb(spec.objects[i].colour));
      if (!object_coverage) continue;
      uint8_t* out = object_coverage->data() + size_t(f) * frame_pixels;
      for (int y = mask.y0; y < mask.y0 + mask.height; ++y) {
        for (int x = mask.x0; x < mask.x0 + mask.width; ++x) {
          uint8_t& value = out[size_t(y) * size.width + x];
          value = std::max(value, uint8_t(std::lround(255.0f * mask.at(x, y))));
        }
      }
    }
  }
  return video;
}

}  // namespace svgear
