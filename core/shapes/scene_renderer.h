#pragma once
// Renders a SceneSpec as a video. The seed picks start positions, speeds (within the ranges below),
// spin/orbit phases and the noise texture; the same (spec, size, seed) always gives the same bytes.
//
// Motions (t = f / (frames − 1) runs from 0 to 1 over the clip; y grows downwards; m is the shape's
// reach — its extent times its largest radius — plus 1 px):
//   still            fixed centre, upright.
//   left/right/up/down and the four diagonals (up-left …): a straight path over the whole clip,
//                    travel L = U(0.6, 0.9) × the free span (frame side − 2m; the smaller side for
//                    diagonals, which move L along both axes); the start is chosen so that the whole
//                    path fits, so objects never leave the frame, and long clips move slower.
//   bounces          x fixed; y = floor − h·|sin(π (f + phase) / 8)|: one bounce every 8 frames
//                    on the floor (bottom − m), h = U(0.5, 0.8) × the free height.
//   orbits           a circle of radius R = U(0.18, 0.26) × the smaller side (less if the shape
//                    would leave the frame) around a fixed centre, counter-clockwise on screen, one
//                    turn every 16 frames.
//   grows / shrinks  fixed centre; the radius goes linearly from 0.6× to 1.4× the size's radius
//                    (shrinks: 1.4× to 0.6×).
//   spins            fixed centre; turns counter-clockwise by one turn every 16 frames (22.5° per
//                    frame) from a random start angle.
// Periodic motions repeat, so every motion stays in frame for any clip length.

#include <cstdint>
#include <vector>

#include "core/media/video.h"
#include "core/shapes/scene.h"
#include "core/shapes/shape_renderer.h"

namespace svgear {

struct ClipSize {
  int frames = 16;
  int height = 64;
  int width = 64;
};

inline constexpr int kBouncePeriodFrames = 8;
inline constexpr int kOrbitPeriodFrames = 16;
inline constexpr int kSpinPeriodFrames = 16;
inline constexpr double kGrowShrinkMinScale = 0.6;
inline constexpr double kGrowShrinkMaxScale = 1.4;
// Amplitude of the noise texture, per channel: well under the evaluator's foreground threshold.
inline constexpr int kNoiseAmplitude = 20;

// A Size word's radius as a fraction of the smaller frame side (0.10 / 0.14 / 0.19: 6.4, 9.0 and
// 12.2 px at 64×64).
double size_radius_fraction(Size size);

// Where every object is in every frame: placements[frame][object].
std::vector<std::vector<ShapePlacement>> plan_scene(const SceneSpec& spec, ClipSize size, uint64_t seed);

// One background frame, [height, width, 3]. Only the Noise kind depends on the seed.
std::vector<uint8_t> render_background(const Background& background, int height, int width, uint64_t seed);

// The colours a background shows (its colour and stripe/checker shade, or samples of a gradient),
// for keeping object colours apart from it.
std::vector<Rgb> background_palette(const Background& background);

// Throws UserError for a size the shapes cannot fit in (under 8×8 pixels, no frames) or a spec
// with no object or more than kMaxSceneObjects. With `object_coverage`, also the objects' coverage
// per pixel, [frames, height, width], 0–255 (the largest of the objects' there): where the objects
// are, for weighting a training loss toward them.
Video render_scene(const SceneSpec& spec, ClipSize size, uint64_t seed,
                   std::vector<uint8_t>* object_coverage = nullptr);

}  // namespace svgear
