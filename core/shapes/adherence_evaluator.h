#pragma once
// Prompt adherence of a shapes-world video: from pixels only, does each prompted object show the
// prompted colour, shape and motion? Used to score the built-in model (dense vs sparse attention)
// on held-out prompts; on clean renders it is right on nearly every attribute (docs/shapes-world.md
// has the measured accuracy).
//
// Basic usage (what `svgear eval` does per held-out prompt):
//   const SceneSpec spec = parse_prompt(prompt);             // prompt_grammar.h; throws PromptError
//   const Video video = ...;                                 // generated for that prompt
//   const AdherenceReport report = evaluate_adherence(video, spec);
//   std::printf("%.1f%%  %s\n", 100 * report.score(), format_adherence_report(report).c_str());
//
// Method, per video:
//   1. Background: each pixel's median over the clip where it is within 45 (RGB distance) of the
//      spec's background rendered without texture, else that rendering (under objects that stay
//      in place). A pixel is foreground where a channel differs from it by more than
//      foreground_threshold.
//   2. Every foreground pixel within palette_match_distance of a palette colour gets that colour's
//      label; each label's per-frame mask is opened (3×3), dropping the 1-px blends at edges.
//   3. Matching, colour first: a prompted object takes the pixels of its own colour when they add
//      up to 5% of its expected area over the clip, and to at most 40% of the clip per prompted
//      object of that colour (more is a background: the colours swapped), colour right; otherwise
//      the largest unclaimed colour (colour wrong); otherwise it is not found (all its attributes
//      wrong). Two prompted objects of one colour share those pixels.
//   4. Per frame, the object's mask (its connected components of at least a quarter of the largest)
//      widened by 2 px gets a soft coverage α from the pixel's position between background and
//      object colour: area, centroid and a soft mask per frame. Frames where another object touches
//      it are left out of steps 5–6 when at least half the frames, spanning 2/3 of the clip, remain.
//   5. Shape: in the 3 frames where the object is largest, the soft mask is compared (soft IoU)
//      with every shape rendered at the same centroid and area, over rotations 15° apart; the best
//      total wins.
//   6. Motion, from the centroid track and the area: a track spanning less than 8% of the frame
//      is in place; a straight one (end-to-end distance ≥ 0.7 × path length) is a move. Unless
//      the track is a straight move, the median area of the last third of the frames against the
//      first third's, beyond 1.8× either way, means grows/shrinks. Otherwise in place → still, or
//      spins when consecutive soft masks differ by more than 8% (circles and rings: still and
//      spins both count as right); a straight move → one of 8 directions by 45° sectors; a
//      winding track → bounces if it spans less than 0.35× as much across as up-down, else orbits.
// Size is not judged (grows/shrinks change it by design).

#include <string>
#include <vector>

#include "core/media/video.h"
#include "core/shapes/scene.h"

namespace svgear {

struct AdherenceOptions {
  // Channel difference from the background above which a pixel belongs to an object: under the 52
  // that the sampler's colour contrast guarantees, above 8-bit noise of a generated video.
  int foreground_threshold = 40;
  // RGB distance within which a pixel counts as a palette colour (half the closest pair's ~100).
  double palette_match_distance = 60.0;
};

struct ObjectAdherence {
  SceneObject expected;
  bool found = false;  // false: nothing in the video could be this object; every attribute is wrong
  Colour measured_colour = Colour::White;
  Shape measured_shape = Shape::Circle;
  Motion measured_motion = Motion::Still;
  bool colour_right = false;
  bool shape_right = false;
  bool motion_right = false;
};

struct AdherenceReport {
  std::vector<ObjectAdherence> objects;  // one per prompted object, in prompt order
  int attributes_right = 0;              // of colour, shape, motion over all objects
  int attributes_total = 0;
  double score() const { return attributes_total > 0 ? double(attributes_right) / attributes_total : 0.0; }
};

// One line per object: "red circle: colour right, shape right, motion wrong (orbits, not left)".
std::string format_adherence_report(const AdherenceReport& report);

// Throws UserError for an empty video or a spec without objects.
AdherenceReport evaluate_adherence(const Video& video, const SceneSpec& spec,
                                   const AdherenceOptions& options = {});

}  // namespace svgear
