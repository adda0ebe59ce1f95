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
  CancelToken() = default;
  // A token that also reads as cancelled while `parent` (which must outlive it) is: the studio's
  // model load, stopped by a newer model choice (its own token) or by closing the window (the
  // worker's token, its parent).
  explicit CancelToken(const CancelToken* parent) : parent_(parent) {}

  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  void reset() { cancelled_.store(false, std::memory_order_relaxed); }  // this token's own flag only
  bool is_cancelled() const {
    return cancelled_.load(std::memory_order_relaxed) || (parent_ && parent_->is_cancelled());
  }
  void throw_if_cancelled() const {
    if (is_cancelled()) throw Cancelled();
  }

 private:
  std::atomic<bool> cancelled_{false};
  const CancelToken* parent_ = nullptr;
};

}  // namespace svgear
