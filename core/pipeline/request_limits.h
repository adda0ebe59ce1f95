#pragma once
// The largest values a GenerationRequest takes, in one place for the request's checks and the
// studio's spin boxes (a box that offers more than the request takes only produces an error).

namespace svgear {

constexpr int kMaxFrames = 1024;
constexpr int kMaxSteps = 1000;
constexpr int kMaxSidePixels = 8192;  // width and height
constexpr double kMaxGuidance = 50.0;  // and at least 1: no guidance
constexpr double kMaxShift = 100.0;    // and more than 0

}  // namespace svgear
