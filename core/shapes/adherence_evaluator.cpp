#include "core/shapes/adherence_evaluator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "core/shapes/scene_renderer.h"
#include "core/shapes/shape_renderer.h"
#include "core/user_error.h"

namespace svgear {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kUnlabelled = -1;
// The largest share of a clip's pixels one object covers: a large shape at its largest scale
// covers under a third of a frame.
constexpr double kMaxObjectCover = 0.4;
// Half the sampler's object/background colour contrast: a pixel's clip median this close to the
// rendered background is background, not an object that stays in place.
constexpr double kMedianBackgroundDistance = 45.0;

// A boolean or soft image, [height, width].
using Mask = std::vector<uint8_t>;
using SoftMask = std::vector<float>;

double squared_distance(const uint8_t* p, Rgb c) {
  const double dr = p[0] - c.r, dg = p[1] - c.g, db = p[2] - c.b;
  return dr * dr + dg * dg + db * db;
}

// 3×3 erosion followed by 3×3 dilation: removes structures thinner than 3 px.
Mask open_mask(const Mask& mask, int height, int width) {
  auto filter = [&](const Mask& in, bool erode) {
    Mask out(in.size(), 0);
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) {
        bool result = erode;
        for (int dy = -1; dy <= 1 && result == erode; ++dy) {
          for (int dx = -1; dx <= 1; ++dx) {
            const int yy = std::clamp(y + dy, 0, height - 1);
            const int xx = std::clamp(x + dx, 0, width - 1);
            if (bool(in[size_t(yy) * width + xx]) != erode) {
              result = !erode;
              break;
            }
          }
        }
        out[size_t(y) * width + x] = result;
      }
    }
    return out;
  };
  return filter(filter(mask, true), false);
}

Mask dilate(const Mask& mask, int height, int width) {
  Mask out(mask.size(), 0);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      if (!mask[size_t(y) * width + x]) continue;
      for (int dy = -1; dy <= 1; ++dy) {
        for (int dx = -1; dx <= 1; ++dx) {
          const int yy = y + dy, xx = x + dx;
          if (yy >= 0 && yy < height && xx >= 0 && xx < width) out[size_t(yy) * width + xx] = 1;
        }
      }
    }
  }
  return out;
}

// Keeps the 8-connected components of at least a quarter of the largest one: stray blends of two
// other colours that happen to match this one are small, an object cut in two by an occluder is not.
Mask main_components(const Mask& mask, int height, int width) {
  std::vector<int> component(mask.size(), -1);
  std::vector<int> sizes;
  std::vector<int> stack;
  for (size_t start = 0; start < mask.size(); ++start) {
    if (!mask[start] || component[start] >= 0) continue;
    const int id = int(sizes.size());
    int size = 0;
    stack.push_back(int(start));
    component[start] = id;
    while (!stack.empty()) {
      const int i = stack.back();
      stack.pop_back();
      ++size;
      const int y = i / width, x = i % width;
      for (int dy = -1; dy <= 1; ++dy) {
        for (int dx = -1; dx <= 1; ++dx) {
          const int yy = y + dy, xx = x + dx;
          if (yy < 0 || yy >= height || xx < 0 || xx >= width) continue;
          const size_t j = size_t(yy) * width + xx;
          if (mask[j] && component[j] < 0) {
            component[j] = id;
            stack.push_back(int(j));
          }
        }
      }
    }
    sizes.push_back(size);
  }
  Mask kept(mask.size(), 0);
  if (sizes.empty()) return kept;
  const int largest = *std::max_element(sizes.begin(), sizes.end());
  for (size_t i = 0; i < mask.size(); ++i) kept[i] = component[i] >= 0 && 4 * sizes[component[i]] >= largest;
  return kept;
}

// Area of each shape at radius 1, and the angle after which it looks the same again.
struct ShapeTemplateInfo {
  double unit_area = 0.0;
  double symmetry_rad = 2 * kPi;
};

const std::array<ShapeTemplateInfo, kShapeCount>& shape_template_infos() {
  static const std::array<ShapeTemplateInfo, kShapeCount> infos = [] {
    std::array<ShapeTemplateInfo, kShapeCount> out;
    for (int s = 0; s < kShapeCount; ++s) {
      const double radius = 40.0;
      const CoverageMask mask = rasterize_shape({Shape(s), 60.0, 60.0, radius, 0.0}, 120, 120);
      double area = 0.0;
      for (float c : mask.coverage) area += c;
      out[s].unit_area = area / (radius * radius);
    }
    out[int(Shape::Circle)].symmetry_rad = 0.0;
    out[int(Shape::Ring)].symmetry_rad = 0.0;
    out[int(Shape::Square)].symmetry_rad = kPi / 2;
    out[int(Shape::Cross)].symmetry_rad = kPi / 2;
    out[int(Shape::Diamond)].symmetry_rad = kPi;
    out[int(Shape::Triangle)].symmetry_rad = 2 * kPi / 3;
    out[int(Shape::Star)].symmetry_rad = 2 * kPi / 5;
    return out;
  }();
  return infos;
}

// Rotations tried per shape: 15° apart over its symmetry angle.
constexpr double kTemplateAngleStepRad = 15.0 * kPi / 180.0;
// 2×2 samples per pixel: templates are compared, not shown; 4× cheaper than the renderer's 4×4.
constexpr int kTemplateSamplesPerAxis = 2;

// Soft IoU of the object's coverage with the best-rotated template of `shape` at its centroid and area.
double best_template_iou(const SoftMask& alpha, double area, double centre_x, double centre_y, Shape shape,
                         int height, int width) {
  const ShapeTemplateInfo& info = shape_template_infos()[int(shape)];
  const double radius = std::sqrt(area / info.unit_area);
  const int steps =
      info.symmetry_rad > 0 ? std::max(1, int(std::lround(info.symmetry_rad / kTemplateAngleStepRad))) : 1;
  double best = 0.0;
  for (int k = 0; k < steps; ++k) {
    const double angle = info.symmetry_rad * k / steps;
    const CoverageMask t =
        rasterize_shape({shape, centre_x, centre_y, radius, angle}, height, width, kTemplateSamplesPerAxis);
    double overlap = 0.0, template_area = 0.0;
    for (int y = t.y0; y < t.y0 + t.height; ++y) {
      for (int x = t.x0; x < t.x0 + t.width; ++x) {
        const float c = t.at(x, y);
        template_area += c;
        overlap += std::min(c, alpha[size_t(y) * width + x]);
      }
    }
    best = std::max(best, overlap / (area + template_area - overlap));
  }
  return best;
}

Motion direction_of(double dx, double dy) {
  // Eight 45° sectors; y grows downwards, so dy < 0 is up.
  const double angle = std::atan2(-dy, dx);  // counter-clockwise from +x
  const int sector = int(std::lround(angle / (kPi / 4))) & 7;
  constexpr Motion kSectors[8] = {Motion::Right, Motion::UpRight,  Motion::Up,   Motion::UpLeft,
                                  Motion::Left,  Motion::DownLeft, Motion::Down, Motion::DownRight};
  return kSectors[sector];
}

double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
  return values[values.size() / 2];
}

// What one object looks like in each frame.
struct ObjectFrames {
  std::vector<SoftMask> alpha;  // [frames][height × width]
  std::vector<double> area;     // Σ α per frame
  std::vector<double> centre_x;
  std::vector<double> centre_y;
  std::vector<bool> touched;  // another object touches or covers it in this frame
};

// Frames to measure on: the untouched ones when they are at least half the clip and span most of
// it (an occluder changes the visible area and centroid), else all frames that show the object.
std::vector<int> frames_to_measure(const ObjectFrames& object) {
  std::vector<int> seen, untouched;
  for (size_t f = 0; f < object.area.size(); ++f) {
    if (object.area[f] <= 0) continue;
    seen.push_back(int(f));
    if (!object.touched[f]) untouched.push_back(int(f));
  }
  const int clip = int(object.area.size());
  if (2 * untouched.size() >= seen.size() && !untouched.empty() &&
      untouched.back() - untouched.front() >= (clip - 1) * 2 / 3) {
    return untouched;
  }
  return seen;
}

Motion classify_motion(const ObjectFrames& object, int height, int width) {
  const std::vector<int> seen = frames_to_measure(object);
  if (seen.size() < 2) return Motion::Still;

  // Area trend: medians of the first and the last third of the frames that show the object.
  const int third = std::max(1, int(seen.size()) / 3);
  std::vector<double> first, last;
  for (int i = 0; i < third; ++i) {
    first.push_back(object.area[seen[i]]);
    last.push_back(object.area[seen[seen.size() - 1 - i]]);
  }
  const double growth = std::log(median(last) / median(first));

  // Centroid track over frames where the object is not mostly hidden.
  double largest = 0.0;
  for (int f : seen) largest = std::max(largest, object.area[f]);
  std::vector<int> track;
  for (int f : seen) {
    if (object.area[f] >= 0.5 * largest) track.push_back(f);
  }
  double min_x = 1e9, max_x = -1e9, min_y = 1e9, max_y = -1e9, path = 0.0;
  for (size_t i = 0; i < track.size(); ++i) {
    const int f = track[i];
    min_x = std::min(min_x, object.centre_x[f]);
    max_x = std::max(max_x, object.centre_x[f]);
    min_y = std::min(min_y, object.centre_y[f]);
    max_y = std::max(max_y, object.centre_y[f]);
    if (i > 0) {
      path += std::hypot(object.centre_x[f] - object.centre_x[track[i - 1]],
                         object.centre_y[f] - object.centre_y[track[i - 1]]);
    }
  }
  const double span = std::max(max_x - min_x, max_y - min_y);
  const bool moves = span >= 0.08 * std::min(height, width);
  const int f0 = track.front(), f1 = track.back();
  const double dx = object.centre_x[f1] - object.centre_x[f0];
  const double dy = object.centre_y[f1] - object.centre_y[f0];
  const bool straight = moves && std::hypot(dx, dy) >= 0.7 * path;
  // A straight move stays a move when an occluder changes the visible area at one end.
  if (!straight && growth > std::log(1.8)) return Motion::Grow;
  if (!straight && growth < -std::log(1.8)) return Motion::Shrink;
  if (!moves) {
    // In place: spinning when consecutive soft masks differ (a still shape's masks are equal).
    double difference = 0.0, total = 0.0;
    for (size_t i = 1; i < seen.size(); ++i) {
      const SoftMask& a = object.alpha[seen[i - 1]];
      const SoftMask& b = object.alpha[seen[i]];
      for (size_t p = 0; p < a.size(); ++p) {
        difference += std::abs(a[p] - b[p]);
        total += 0.5 * (a[p] + b[p]);
      }
    }
    return total > 0 && difference / total > 0.08 ? Motion::Spin : Motion::Still;
  }
  if (straight) return direction_of(dx, dy);
  return max_x - min_x < 0.35 * (max_y - min_y) ? Motion::Bounce : Motion::Orbit;
}

Shape classify_shape(const ObjectFrames& object, int height, int width) {
  std::vector<int> order = frames_to_measure(object);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return object.area[a] > object.area[b]; });
  order.resize(std::min<size_t>(3, order.size()));
  std::array<double, kShapeCount> total{};
  for (int f : order) {
    if (object.area[f] <= 0) continue;
    for (int s = 0; s < kShapeCount; ++s) {
      total[s] += best_template_iou(object.alpha[f], object.area[f], object.centre_x[f], object.centre_y[f],
                                    Shape(s), height, width);
    }
  }
  return Shape(std::max_element(total.begin(), total.end()) - total.begin());
}

// Where the objects are not: each pixel's median over the clip where it stays close to the spec's
// background rendered without texture (so noise textures and a generator's slightly-off
// background are followed exactly), else that rendering (under an object that does not move).
std::vector<uint8_t> estimate_background(const Video& video, const Background& spec_background) {
  Background plain = spec_background;
  if (plain.kind == BackgroundKind::Noise) plain.kind = BackgroundKind::Solid;
  std::vector<uint8_t> background = render_background(plain, video.height, video.width, 0);
  const size_t pixels = size_t(video.height) * video.width;
  std::vector<uint8_t> values(video.frames);
  for (size_t i = 0; i < pixels; ++i) {
    Rgb median{};
    for (int k = 0; k < 3; ++k) {
      for (int f = 0; f < video.frames; ++f) values[f] = video.frame(f)[i * 3 + k];
      std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
      (k == 0 ? median.r : k == 1 ? median.g : median.b) = values[values.size() / 2];
    }
    uint8_t* b = background.data() + i * 3;
    if (squared_distance(b, median) < kMedianBackgroundDistance * kMedianBackgroundDistance) {
      b[0] = median.r;
      b[1] = median.g;
      b[2] = median.b;
    }
  }
  return background;
}

std::string judged(const char* attribute, bool right, std::string_view measured, std::string_view wanted) {
  if (right) return std::string(attribute) + " right";
  return std::string(attribute) + " wrong (" + std::string(measured) + ", not " + std::string(wanted) + ")";
}

}  // namespace

AdherenceReport evaluate_adherence(const Video& video, const SceneSpec& spec,
                                   const AdherenceOptions& options) {
  if (video.empty() || video.height < 1 || video.width < 1) throw UserError("adherence: the video is empty");
  if (spec.objects.empty()) throw UserError("adherence: the prompt names no object to look for");
  const int frames = video.frames, height = video.height, width = video.width;
  const size_t pixels = size_t(height) * width;

  const std::vector<uint8_t> background = estimate_background(video, spec.background);

  // Palette labels of foreground pixels: [frames][pixels].
  std::array<Rgb, kColourCount> palette;
  for (int c = 0; c < kColourCount; ++c) palette[c] = colour_rgb(Colour(c));
  const double match_squared = options.palette_match_distance * options.palette_match_distance;
  std::vector<std::vector<int8_t>> labels(frames, std::vector<int8_t>(pixels, kUnlabelled));
  std::vector<Mask> foreground(frames, Mask(pixels, 0));
  for (int f = 0; f < frames; ++f) {
    const uint8_t* frame = video.frame(f);
    for (size_t i = 0; i < pixels; ++i) {
      const uint8_t* p = frame + i * 3;
      const uint8_t* b = background.data() + i * 3;
      const int diff = std::max({std::abs(p[0] - b[0]), std::abs(p[1] - b[1]), std::abs(p[2] - b[2])});
      if (diff <= options.foreground_threshold) continue;
      foreground[f][i] = 1;
      int best = kUnlabelled;
      double best_distance = match_squared;
      for (int c = 0; c < kColourCount; ++c) {
        const double d = squared_distance(p, palette[c]);
        if (d < best_distance) {
          best_distance = d;
          best = c;
        }
      }
      labels[f][i] = int8_t(best);
    }
  }

  // Opened per-colour masks and their pixel counts over the clip, for the colours in the video.
  std::array<std::vector<Mask>, kColourCount> colour_masks;
  std::array<double, kColourCount> colour_pixels{};
  for (int c = 0; c < kColourCount; ++c) {
    for (int f = 0; f < frames; ++f) {
      Mask mask(pixels, 0);
      bool any = false;
      for (size_t i = 0; i < pixels; ++i) {
        mask[i] = labels[f][i] == c;
        any = any || mask[i];
      }
      colour_masks[c].push_back(any ? open_mask(mask, height, width) : mask);
      colour_pixels[c] += std::count(colour_masks[c][f].begin(), colour_masks[c][f].end(), 1);
    }
  }

  // Colour first: own colour if present, else the largest colour no prompted object claims. A
  // colour over more than kMaxObjectCover of the clip is a background, not an object: a video
  // that paints "a red square over a blue background" as a blue shape on red has no red object
  // (the bag-of-words text encoder's swap, which this check once counted as colour right).
  const int smaller_side = std::min(height, width);
  std::array<int, kColourCount> prompted{};  // prompted objects per colour: they share its pixels
  for (const SceneObject& object : spec.objects) ++prompted[int(object.colour)];
  auto present = [&](int c, const SceneObject& object) {
    const double radius = size_radius_fraction(object.size) * smaller_side;
    return colour_pixels[c] >= 0.05 * kPi * radius * radius * frames &&
           colour_pixels[c] <= kMaxObjectCover * std::max(1, prompted[c]) * double(pixels) * frames;
  };
  std::array<bool, kColourCount> claimed{};
  for (const SceneObject& object : spec.objects) {
    if (present(int(object.colour), object)) claimed[int(object.colour)] = true;
  }
  AdherenceReport report;
  for (const SceneObject& object : spec.objects) {
    ObjectAdherence result;
    result.expected = object;
    int colour = -1;
    if (present(int(object.colour), object)) {
      colour = int(object.colour);
    } else {
      for (int c = 0; c < kColourCount; ++c) {
        if (!claimed[c] && present(c, object) && (colour < 0 || colour_pixels[c] > colour_pixels[colour]))
          colour = c;
      }
      if (colour >= 0) claimed[colour] = true;
    }
    report.attributes_total += 3;
    if (colour < 0) {
      report.objects.push_back(result);
      continue;
    }
    result.found = true;
    result.measured_colour = Colour(colour);

    // Soft coverage per frame: core pixels count fully; pixels up to 2 px around them by where they
    // sit between the background and the object's mean colour (anti-aliased edges are blends).
    std::array<double, 3> mean_colour{};
    double core_count = 0.0;
    std::vector<Mask> cores(frames);
    for (int f = 0; f < frames; ++f) {
      cores[f] = main_components(colour_masks[colour][f], height, width);
      for (size_t i = 0; i < pixels; ++i) {
        if (!cores[f][i]) continue;
        for (int k = 0; k < 3; ++k) mean_colour[k] += video.frame(f)[i * 3 + k];
        core_count += 1;
      }
    }
    for (double& m : mean_colour) m /= std::max(1.0, core_count);

    ObjectFrames tracked;
    for (int f = 0; f < frames; ++f) {
      const Mask near = dilate(dilate(cores[f], height, width), height, width);
      SoftMask alpha(pixels, 0.0f);
      double area = 0.0, sum_x = 0.0, sum_y = 0.0;
      int contact_pixels = 0;  // foreground around the object that is not the object
      for (size_t i = 0; i < pixels; ++i) {
        if (!near[i]) continue;
        double a = 1.0;
        if (!cores[f][i]) {
          if (!foreground[f][i]) continue;
          if (labels[f][i] != kUnlabelled && labels[f][i] != colour && colour_masks[labels[f][i]][f][i]) {
            ++contact_pixels;
            continue;
          }
          const uint8_t* p = video.frame(f) + i * 3;
          const uint8_t* b = background.data() + i * 3;
          double dot = 0.0, norm = 0.0;
          for (int k = 0; k < 3; ++k) {
            const double towards = mean_colour[k] - b[k];
            dot += (p[k] - b[k]) * towards;
            norm += towards * towards;
          }
          a = norm > 0 ? std::clamp(dot / norm, 0.0, 1.0) : 0.0;
          double residual = 0.0;  // far from the background→object line: another object's pixel
          for (int k = 0; k < 3; ++k) {
            const double e = p[k] - (b[k] + a * (mean_colour[k] - b[k]));
            residual += e * e;
          }
          if (residual > options.palette_match_distance * options.palette_match_distance) {
            ++contact_pixels;
            continue;
          }
        }
        alpha[i] = float(a);
        area += a;
        sum_x += a * (double(i % width) + 0.5);
        sum_y += a * (double(i / width) + 0.5);
      }
      tracked.alpha.push_back(std::move(alpha));
      tracked.area.push_back(area);
      tracked.centre_x.push_back(area > 0 ? sum_x / area : 0.0);
      tracked.centre_y.push_back(area > 0 ? sum_y / area : 0.0);
      tracked.touched.push_back(contact_pixels >= 2);
    }

    result.measured_shape = classify_shape(tracked, height, width);
    result.measured_motion = classify_motion(tracked, height, width);
    result.colour_right = result.measured_colour == object.colour;
    result.shape_right = result.measured_shape == object.shape;
    const bool in_place = object.motion == Motion::Still || object.motion == Motion::Spin;
    const bool measured_in_place =
        result.measured_motion == Motion::Still || result.measured_motion == Motion::Spin;
    result.motion_right = result.measured_motion == object.motion ||
                          (shape_is_rotation_invariant(object.shape) && in_place && measured_in_place);
    report.attributes_right += result.colour_right + result.shape_right + result.motion_right;
    report.objects.push_back(result);
  }
  return report;
}

std::string format_adherence_report(const AdherenceReport& report) {
  std::string out;
  for (const ObjectAdherence& o : report.objects) {
    if (!out.empty()) out += "\n";
    out +=
        std::string(colour_name(o.expected.colour)) + " " + std::string(shape_name(o.expected.shape)) + ": ";
    if (!o.found) {
      out += "not found";
      continue;
    }
    out += judged("colour", o.colour_right, colour_name(o.measured_colour), colour_name(o.expected.colour)) +
           ", " + judged("shape", o.shape_right, shape_name(o.measured_shape), shape_name(o.expected.shape)) +
           ", " +
           judged("motion", o.motion_right, motion_name(o.measured_motion), motion_name(o.expected.motion));
  }
  return out;
}

}  // namespace svgear
