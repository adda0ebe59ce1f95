#pragma once
// TapSink: receives named intermediates ("blocks.0.self_attn.q") from model code. Model code calls
// tap(taps, name, tensor), a no-op when no sink is attached; tests compare taps with reference
// vectors, and audit/trace tooling uses the same hook.

#include <string_view>

#include <ATen/core/Tensor.h>

namespace svgear {

class TapSink {
 public:
  virtual ~TapSink() = default;
  virtual void on_tap(std::string_view name, const at::Tensor& value) = 0;
};

inline void tap(TapSink* sink, std::string_view name, const at::Tensor& value) {
  if (sink) sink->on_tap(name, value);
}

}  // namespace svgear
