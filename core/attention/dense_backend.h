#pragma once
// DenseBackend: exact softmax attention, the reference every sparse backend is measured against.
// CPU: ATen's scaled_dot_product_attention, in chunks of query rows at large sizes (below). CUDA
// bf16/fp16: cuDNN attention first, with ATen's own checks deciding whether cuDNN can take the
// inputs and falling back to flash / memory-efficient / math attention when it cannot or when it
// fails.
// cuDNN: 633 TFLOP/s vs 359 flash, 178 memory-efficient at B=1, H=12, N=32760, d=128 bf16 on H200
// (PyTorch 2.11, cuDNN 9.19); ATen's default order would never pick it (math comes first).

#include <string>
#include <string_view>

#include <ATen/core/Tensor.h>

#include "core/attention/attention_backend.h"

namespace svgear {

// A CPU call at a large size takes minutes (a 2048×2048 clip of a built-in model has 262,144
// tokens): it runs in chunks of query rows, each about `scores_per_chunk` scores (a fraction of a
// second on a few cores), polling `cancel` (when given) before each. Rows are independent, so the
// chunks give the whole call's output, up to the rounding of ATen's CPU kernel, which tiles rows
// by the length it is given (chunks are a multiple of kCpuChunkRowMultiple rows). Small calls run
// whole.
inline constexpr int64_t kCpuScoresPerChunk = int64_t(1) << 26;
inline constexpr int64_t kCpuChunkRowMultiple = 256;
at::Tensor cpu_attention_in_row_chunks(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                       const CancelToken* cancel, int64_t scores_per_chunk = kCpuScoresPerChunk);

class DenseBackend : public AttentionBackend {
 public:
  std::string_view name() const override { return "dense"; }
  // Dense mode on any device ATen's attention runs on.
  bool supports(const AttentionConfig& config, at::Device device, std::string* why) const override;
  // q, k, v: [B, H, N, d] (k and v may have another N). Returns o: [B, H, N_q, d] in q's dtype.
  at::Tensor forward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const AttentionCall& call) override;
  // Whether a CUDA bf16/fp16 call still asks for cuDNN first (false once cuDNN itself failed).
  bool tries_cudnn() const { return !cudnn_failed_; }

 private:
  // Set once cuDNN attention threw: later calls go straight to ATen's default order.
  bool cudnn_failed_ = false;
};

}  // namespace svgear
