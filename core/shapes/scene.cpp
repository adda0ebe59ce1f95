#include "core/shapes/scene.h"

namespace svgear {

Rgb colour_rgb(Colour colour) {
  // Saturated and far apart (nearest pair: red/orange and orange/yellow, ~100 apart in RGB), so the
  // evaluator can tell every colour from every other one.
  switch (colour) {
    case Colour::Red: return {220, 30, 30};
    case Colour::Green: return {30, 170, 50};
    case Colour::Blue: return {30, 70, 220};
    case Colour::Yellow: return {250, 225, 30};
    case Colour::Orange: return {250, 130, 0};
    case Colour::Purple: return {130, 40, 180};
    case Colour::White: return {245, 245, 245};
    case Colour::Black: return {15, 15, 15};
    case Colour::Pink: return {255, 120, 190};
    case Colour::Cyan: return {20, 210, 230};
    case Colour::Grey: return {128, 128, 128};
  }
  return {};
}

std::string_view shape_name(Shape shape) {
  switch (shape) {
    case Shape::Circle: return "circle";
    case Shape::Square: return "square";
    case Shape::Triangle: return "triangle";
    case Shape::Star: return "star";
    case Shape::Ring: return "ring";
    case Shape::Diamond: return "diamond";
    case Shape::Cross: return "cross";
    case Shape::Heart: return "heart";
  }
  return "";
}

std::string_view colour_name(Colour colour) {
  switch (colour) {
    case Colour::Red: return "red";
    case Colour::Green: return "green";
    case Colour::Blue: return "blue";
    case Colour::Yellow: return "yellow";
    case Colour::Orange: return "orange";
    case Colour::Purple: return "purple";
    case Colour::White: return "white";
    case Colour::Black: return "black";
    case Colour::Pink: return "pink";
    case Colour::Cyan: return "cyan";
    case Colour::Grey: return "grey";
  }
  return "";
}

std::string_view size_name(Size size) {
  switch (size) {
    case Size::Small: return "small";
    case Size::Medium: return "medium";
    case Size::Large: return "large";
  }
  return "";
}

std::string_view motion_name(Motion motion) {
  switch (motion) {
    case Motion::Still: return "still";
    case Motion::Left: return "left";
    case Motion::Right: return "right";
    case Motion::Up: return "up";
    case Motion::Down: return "down";
    case Motion::UpLeft: return "up-left";
    case Motion::UpRight: return "up-right";
    case Motion::DownLeft: return "down-left";
    case Motion::DownRight: return "down-right";
    case Motion::Bounce: return "bounces";
    case Motion::Orbit: return "orbits";
    case Motion::Grow: return "grows";
    case Motion::Shrink: return "shrinks";
    case Motion::Spin: return "spins";
  }
  return "";
}

std::string_view background_kind_name(BackgroundKind kind) {
  switch (kind) {
    case BackgroundKind::Solid: return "background";
    case BackgroundKind::Sky: return "sky";
    case BackgroundKind::Sunset: return "sunset";
    case BackgroundKind::Stripes: return "stripes";
    case BackgroundKind::Checker: return "checkerboard";
    case BackgroundKind::Noise: return "noise";
  }
  return "";
}

bool shape_is_rotation_invariant(Shape shape) { return shape == Shape::Circle || shape == Shape::Ring; }

}  // namespace svgear
