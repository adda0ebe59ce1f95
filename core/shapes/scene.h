#pragma once
// SceneSpec: what a shapes-world clip shows — 1 to 3 coloured shapes, each with a size and a
// motion, over a background. It is what a prompt means (prompt_grammar.h parses and prints it),
// what the renderer draws (scene_renderer.h, with a seed for positions, speeds and texture) and
// what the adherence evaluator checks a video against. Plain data, no LibTorch.

#include <cstdint>
#include <string_view>
#include <vector>

namespace svgear {

enum class Shape { Circle, Square, Triangle, Star, Ring, Diamond, Cross, Heart };
inline constexpr int kShapeCount = 8;

enum class Colour { Red, Green, Blue, Yellow, Orange, Purple, White, Black, Pink, Cyan, Grey };
inline constexpr int kColourCount = 11;

enum class Size { Small, Medium, Large };
inline constexpr int kSizeCount = 3;

// Exact definitions (positions, speeds, periods) are in scene_renderer.h.
enum class Motion {
  Still,
  Left,
  Right,
  Up,
  Down,
  UpLeft,
  UpRight,
  DownLeft,
  DownRight,
  Bounce,
  Orbit,
  Grow,
  Shrink,
  Spin,
};
inline constexpr int kMotionCount = 14;

enum class BackgroundKind { Solid, Sky, Sunset, Stripes, Checker, Noise };
inline constexpr int kBackgroundKindCount = 6;

struct Rgb {
  uint8_t r = 0;
  uint8_t g = 0;
  uint8_t b = 0;
  bool operator==(const Rgb&) const = default;
};

struct SceneObject {
  Shape shape = Shape::Circle;
  Colour colour = Colour::White;  // the grammar's default when a prompt names no colour
  Size size = Size::Medium;
  Motion motion = Motion::Still;
  bool operator==(const SceneObject&) const = default;
};

struct Background {
  BackgroundKind kind = BackgroundKind::Solid;
  // Used by Solid, Stripes, Checker and Noise. Sky and Sunset have fixed colours and keep the
  // default here, so that equal backgrounds compare equal.
  Colour colour = Colour::Black;
  bool operator==(const Background&) const = default;
};

inline constexpr int kMaxSceneObjects = 3;

struct SceneSpec {
  std::vector<SceneObject> objects;  // 1..kMaxSceneObjects, drawn in order (later ones on top)
  Background background;
  bool operator==(const SceneSpec&) const = default;
};

// The palette: the sRGB value every colour word renders as.
Rgb colour_rgb(Colour colour);

// The words the grammar uses for each value ("up-left", "checkerboard", ...).
std::string_view shape_name(Shape shape);
std::string_view colour_name(Colour colour);
std::string_view size_name(Size size);
std::string_view motion_name(Motion motion);
std::string_view background_kind_name(BackgroundKind kind);

// Circles and rings look the same at every angle, so a spin of one cannot be seen.
bool shape_is_rotation_invariant(Shape shape);

}  // namespace svgear
