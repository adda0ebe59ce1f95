#pragma once
// Random scenes for training data and tests: a seed gives a SceneSpec and its canonical prompt.
// Every choice is uniform over what is allowed — the number of objects, then per object shape,
// size, motion and colour, and the background kind and colour — except that
//   - object colours differ from each other and from the background's colours (at least
//     kMinColourContrast apart in RGB), so every object is visible and can be told apart;
//   - circles and rings never spin (their spin cannot be seen; the motion is drawn again).
//
// Basic usage (one training clip):
//   const SampledScene scene = sample_scene(seed);
//   const Video clip = render_scene(scene.spec, {16, 64, 64}, seed);   // scene_renderer.h
//   // train on (scene.prompt, clip)

#include <cstdint>
#include <string>

#include "core/shapes/scene.h"

namespace svgear {

// RGB distance an object colour keeps from every background colour (red vs orange is ~108).
inline constexpr double kMinColourContrast = 90.0;

struct SceneSamplerOptions {
  int min_objects = 1;
  int max_objects = kMaxSceneObjects;
};

struct SampledScene {
  SceneSpec spec;
  std::string prompt;  // canonical_prompt(spec)
};

// Throws UserError unless 1 <= min_objects <= max_objects <= kMaxSceneObjects.
SampledScene sample_scene(uint64_t seed, const SceneSamplerOptions& options = {});

// Whether sample_scene could draw `spec`'s objects on its background: each object's colour at least
// kMinColourContrast from every background colour and unlike the others', no circle or ring that
// spins (it would look still). Variants of a held-out scene stay in the training distribution.
bool sampler_could_draw(const SceneSpec& spec);

}  // namespace svgear
