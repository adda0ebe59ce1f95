#pragma once
// CancelToken: set from any thread (GUI, signal handler), polled by the engine between sampling
// steps, between DiT layers, and between the latent frames of a Wan VAE decode and the tensors of
// a model load. Polling throws Cancelled so deep call stacks unwind in one place.

#include <atomic>
#include <stdexcept>

namespace svgear {

class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("generation cancelled") {}
};

class CancelToken {
 public:
  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  void reset() { cancelled_.store(false, std::memory_order_relaxed); }
  bool is_cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
  void throw_if_cancelled() const {
    if (is_cancelled()) throw Cancelled();
  }

 private:
  std::atomic<bool> cancelled_{false};
};

}  // namespace svgear
