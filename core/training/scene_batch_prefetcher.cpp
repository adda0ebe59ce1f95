#include "core/training/scene_batch_prefetcher.h"

#include <algorithm>
#include <system_error>
#include <thread>

#include "core/shapes/scene_sampler.h"

namespace svgear {

uint64_t training_seed(uint64_t a, uint64_t b, uint64_t c) {
  uint64_t x = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull) * 0xBF58476D1CE4E5B9ull ^
               (c + 0x8CB92BA72F3D8DD7ull) * 0x94D049BB133111EBull;
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

SceneBatchPrefetcher::SceneBatchPrefetcher(ShapesModelSpec spec, uint64_t recipe_seed, int64_t batch)
    : spec_(std::move(spec)),
      recipe_seed_(recipe_seed),
      batch_(batch),
      threads_(int(std::clamp<int64_t>(std::thread::hardware_concurrency(), 1, batch))) {}

SceneBatchPrefetcher::~SceneBatchPrefetcher() { wait_for_prefetch(); }

void SceneBatchPrefetcher::wait_for_prefetch() {
  if (prefetch_.joinable()) prefetch_.join();
}

SceneBatch SceneBatchPrefetcher::take(int64_t step) {
  wait_for_prefetch();
  SceneBatch batch;
  if (next_.step == step && !next_error_) {
    batch = std::move(next_);
  } else {
    batch = render(step);  // the first step, or a jump (a test): the prefetch is dropped
  }
  next_ = {};
  next_error_ = nullptr;
  prefetch_ = std::thread([this, step] {
    try {
      next_ = render(step + 1);
    } catch (...) {
      next_error_ = std::current_exception();  // rendered again, and thrown, by the take that wants it
    }
  });
  return batch;
}

SceneBatch SceneBatchPrefetcher::render(int64_t step) const {
  const ClipSize clip = spec_.clip;
  const size_t clip_values = size_t(clip.frames) * clip.height * clip.width * 3;
  SceneBatch batch;
  batch.step = step;
  batch.pixels.resize(size_t(batch_) * clip_values);
  batch.object_coverage.resize(size_t(batch_) * (clip_values / 3));
  batch.prompts.resize(size_t(batch_));
  SceneSamplerOptions scenes;
  scenes.max_objects = spec_.max_objects;
  std::vector<std::exception_ptr> errors(static_cast<size_t>(threads_));
  auto render_clips = [&](int worker) {
    try {
      for (int64_t i = worker; i < batch_; i += threads_) {
        const uint64_t seed = training_seed(recipe_seed_, uint64_t(step), uint64_t(i) + 2);
        const SampledScene scene = sample_scene(seed, scenes);
        std::vector<uint8_t> coverage;
        const Video video = render_scene(scene.spec, clip, seed, &coverage);
        std::copy(video.rgb.begin(), video.rgb.end(), batch.pixels.begin() + ptrdiff_t(size_t(i) * clip_values));
        std::copy(coverage.begin(), coverage.end(), batch.object_coverage.begin() + ptrdiff_t(size_t(i) * (clip_values / 3)));
        batch.prompts[size_t(i)] = scene.prompt;
      }
    } catch (...) {
      errors[size_t(worker)] = std::current_exception();
    }
  };
  std::vector<std::thread> workers;
  int started = 1;
  try {
    for (; started < threads_; ++started) workers.emplace_back(render_clips, started);
  } catch (const std::system_error&) {
    // No thread to be had (a container's pids limit): this one renders the shares left, rather
    // than unwinding past joinable threads, which would end the process.
  }
  for (int w = started; w < threads_; ++w) render_clips(w);
  render_clips(0);
  for (std::thread& t : workers) t.join();
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  return batch;
}

}  // namespace svgear
