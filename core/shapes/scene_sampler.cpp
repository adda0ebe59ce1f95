#include "core/shapes/scene_sampler.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/shapes/prompt_grammar.h"
#include "core/shapes/scene_renderer.h"
#include "core/shapes/seeded_random.h"
#include "core/user_error.h"

namespace svgear {
namespace {

double rgb_distance(Rgb a, Rgb b) {
  return std::sqrt(double((a.r - b.r) * (a.r - b.r) + (a.g - b.g) * (a.g - b.g) + (a.b - b.b) * (a.b - b.b)));
}

bool stands_out(Colour colour, const std::vector<Rgb>& background_colours) {
  const Rgb rgb = colour_rgb(colour);
  return std::all_of(background_colours.begin(), background_colours.end(),
                     [&](Rgb b) { return rgb_distance(rgb, b) >= kMinColourContrast; });
}

}  // namespace

bool sampler_could_draw(const SceneSpec& spec) {
  const std::vector<Rgb> background_colours = background_palette(spec.background);
  for (size_t i = 0; i < spec.objects.size(); ++i) {
    const SceneObject& o = spec.objects[i];
    if (o.motion == Motion::Spin && shape_is_rotation_invariant(o.shape)) return false;
    if (!stands_out(o.colour, background_colours)) return false;
    for (size_t j = 0; j < i; ++j) {
      if (spec.objects[j].colour == o.colour) return false;
    }
  }
  return true;
}

SampledScene sample_scene(uint64_t seed, const SceneSamplerOptions& options) {
  if (options.min_objects < 1 || options.min_objects > options.max_objects ||
      options.max_objects > kMaxSceneObjects) {
    throw UserError("scene sampler: objects per scene must satisfy 1 <= min (" +
                    std::to_string(options.min_objects) + ") <= max (" + std::to_string(options.max_objects) +
                    ") <= " + std::to_string(kMaxSceneObjects));
  }
  SeededRandom random(seed, 0x7363656e65);  // "scene"
  SceneSpec spec;
  spec.background.kind = BackgroundKind(random.index(kBackgroundKindCount));
  if (spec.background.kind != BackgroundKind::Sky && spec.background.kind != BackgroundKind::Sunset) {
    spec.background.colour = Colour(random.index(kColourCount));
  }
  const std::vector<Rgb> background_colours = background_palette(spec.background);

  const int count = options.min_objects + random.index(options.max_objects - options.min_objects + 1);
  for (int i = 0; i < count; ++i) {
    SceneObject object;
    object.shape = Shape(random.index(kShapeCount));
    object.size = Size(random.index(kSizeCount));
    do {
      object.motion = Motion(random.index(kMotionCount));
    } while (object.motion == Motion::Spin && shape_is_rotation_invariant(object.shape));

    std::vector<Colour> allowed;
    for (int c = 0; c < kColourCount; ++c) {
      const bool far_from_background = stands_out(Colour(c), background_colours);
      const bool unused = std::none_of(spec.objects.begin(), spec.objects.end(),
                                       [&](const SceneObject& o) { return o.colour == Colour(c); });
      if (far_from_background && unused) allowed.push_back(Colour(c));
    }
    object.colour = allowed[random.index(int(allowed.size()))];
    spec.objects.push_back(object);
  }
  return {spec, canonical_prompt(spec)};
}

}  // namespace svgear
