#pragma once
// SeededRandom: the shapes world's random numbers. std::mt19937_64's output is fixed by the
// standard but std::uniform_*_distribution is not (libstdc++ and libc++ differ), so the draws are
// made here from the raw 64-bit output: a seed gives the same scene on every machine.

#include <cstdint>
#include <random>

namespace svgear {

class SeededRandom {
 public:
  // `stream` separates independent sequences from one seed (e.g. one per object).
  explicit SeededRandom(uint64_t seed, uint64_t stream = 0) : engine_(mix(seed ^ mix(stream + 1))) {}

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return double(engine_() >> 11) * (1.0 / 9007199254740992.0); }
  double uniform(double low, double high) { return low + (high - low) * uniform(); }
  // Uniform integer in [0, count).
  int index(int count) { return int(uniform() * count); }

 private:
  // splitmix64: nearby seeds (0, 1, 2 ...) start the engine in unrelated states.
  static uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  }

  std::mt19937_64 engine_;
};

}  // namespace svgear
