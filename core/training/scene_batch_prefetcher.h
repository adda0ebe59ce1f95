#pragma once
// SceneBatchPrefetcher: renders the training clips of optimiser step k on all cores while the
// device runs step k − 1, so that scene rendering (CPU, ~ms per clip) stays off the critical path.
//
//   SceneBatchPrefetcher batches(spec, recipe_seed, batch);
//   SceneBatch b = batches.take(step);   // ready at once when `step` was prefetched; then renders step + 1
//
// Clip i of step k is the scene sampled and rendered from seed mix(recipe_seed, k, i + 2): the
// batches depend only on the step, so a resumed run sees exactly the batches of an unbroken one.

#include <cstdint>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "core/training/shapes_model_spec.h"

namespace svgear {

struct SceneBatch {
  int64_t step = -1;
  std::vector<uint8_t> pixels;       // [batch, frames, height, width, 3]
  std::vector<uint8_t> object_coverage;  // [batch, frames, height, width], 0–255 (render_scene's)
  std::vector<std::string> prompts;  // canonical wording, one per clip
};

// splitmix64 of three words: independent, reproducible seeds for (recipe seed, step, index).
uint64_t training_seed(uint64_t a, uint64_t b, uint64_t c);

class SceneBatchPrefetcher {
 public:
  SceneBatchPrefetcher(ShapesModelSpec spec, uint64_t recipe_seed, int64_t batch);
  ~SceneBatchPrefetcher();
  SceneBatchPrefetcher(const SceneBatchPrefetcher&) = delete;
  SceneBatchPrefetcher& operator=(const SceneBatchPrefetcher&) = delete;

  SceneBatch take(int64_t step);

 private:
  SceneBatch render(int64_t step) const;
  void wait_for_prefetch();

  ShapesModelSpec spec_;
  uint64_t recipe_seed_;
  int64_t batch_;
  int threads_;
  // Plain threads, not std::async / std::future: the GPU image's LibTorch (oneDNN) and a binary
  // built with that image's g++ disagree on the std::call_once instantiation that <future> emits,
  // and every oneDNN convolution then crashes (seen on the H200 machine, docs/gpu-runs.md).
  std::thread prefetch_;
  SceneBatch next_;
  std::exception_ptr next_error_;
};

}  // namespace svgear
