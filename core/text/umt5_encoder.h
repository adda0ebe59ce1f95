#pragma once
// Umt5Encoder: Wan's text encoder, the umT5 encoder stack (upstream wan/modules/t5.py, T5Encoder
// with shared_pos = false): token embedding, then per layer a pre-norm self-attention with the
// layer's own relative position bias and a pre-norm gated-GELU FFN, then a final norm. T5 details
// kept as upstream: RMS norms without mean or bias, attention logits not scaled by 1/sqrt(d),
// GELU with the tanh approximation, softmax in float32.
//
//   Umt5Encoder encoder(Umt5Weights::load(open_umt5_files({path}), at::kCPU, at::kFloat));
//   at::Tensor out = encoder.forward(ids, mask);   // [B, L, dim]
//
// Like upstream, nothing is zeroed inside the encoder: padding positions get outputs too (the
// mask only hides them as keys); Wan cuts the context to the real length and zero-pads it later.

#include <ATen/core/Tensor.h>

#include "core/text/umt5_weights.h"

namespace svgear {

class Umt5Encoder {
 public:
  explicit Umt5Encoder(Umt5Weights weights);

  // ids, mask: [B, L] integer (mask 1 = token, 0 = padding), any device. Returns [B, L, dim] in
  // the weights' dtype on the weights' device.
  at::Tensor forward(const at::Tensor& ids, const at::Tensor& mask) const;

  const Umt5Config& config() const { return weights_.config; }
  at::Device device() const;
  at::ScalarType dtype() const;

 private:
  Umt5Weights weights_;
};

// Upstream T5RelativeEmbedding._relative_position_bucket, bidirectional: [L, L] int64 bucket of
// key position j relative to query position i (half the buckets for j > i; exact below
// num_buckets / 4, logarithmic up to max_distance).
at::Tensor umt5_position_buckets(int64_t length, int num_buckets, int max_distance,
                                 at::Device device);

}  // namespace svgear
