#include "kernels/layer_norm_affine/layer_norm_affine_cuda.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <stdexcept>
#include <type_traits>

#include "kernels/common/row_element_dispatch.cuh"
#include "kernels/common/vector8.cuh"

namespace svgear {
namespace {

// One warp per row of x (B·N rows of dim channels), a lane taking 8 consecutive channels at a time.
// Three passes over the row: its mean, the mean of its squared deviations (stable, as ATen's Welford
// is; not the cancelling E[x²] − E[x]²), then normalise, apply the gain and bias and store; the
// second and third reads of the row (6 KB of float32 at dim 1536) come from L1 or L2, not DRAM. Memory-bound: one
// read of x and one write of the result, 300 MB at Wan-1.3B 480p from a float32 stream to bf16;
// with the residual, also one read of y and one write of the sum (600 MB).
constexpr int kWarpsPerBlock = 8;
constexpr int kChunk = vector8::kSize;

__device__ __forceinline__ float warp_sum(float v) {
  for (int delta = 16; delta > 0; delta /= 2) v += __shfl_xor_sync(0xffffffffu, v, delta);
  return v;
}

template <typename In, typename Out, bool kResidual>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    layer_norm_affine_kernel(const In* __restrict__ x, const Out* __restrict__ y, const float* __restrict__ gate,
                             float* __restrict__ sum_out, const float* __restrict__ gain,
                             const float* __restrict__ bias, int64_t affine_stride, Out* __restrict__ out,
                             int64_t rows, int64_t tokens, int64_t dim, float eps) {
  const int64_t row = blockIdx.x * int64_t(kWarpsPerBlock) + threadIdx.x / 32;  // b · N + t
  const int lane = threadIdx.x % 32;
  if (row >= rows) return;  // the whole warp: the sums below have every lane
  const int64_t chunks = dim / kChunk;
  const int64_t b = row / tokens;
  float sum = 0.0f;
  for (int64_t c = lane; c < chunks; c += 32) {
    float v[kChunk];
    vector8::load(x + row * dim + c * kChunk, v);
    if constexpr (kResidual) {
      // addcmul's x + y · gate in float32; the sum goes out now and the passes below read it back
      // from L1 or L2, as they read x.
      float r[kChunk];
      vector8::load(y + row * dim + c * kChunk, r);
      if (gate) {
        float g[kChunk];
        vector8::load(gate + b * dim + c * kChunk, g);
        for (int i = 0; i < kChunk; ++i) v[i] += r[i] * g[i];
      } else {
        for (int i = 0; i < kChunk; ++i) v[i] += r[i];
      }
      vector8::store(sum_out + row * dim + c * kChunk, v);
    }
    for (int i = 0; i < kChunk; ++i) sum += v[i];
  }
  // The rows the norm reads: the sum this thread just wrote (plain loads, not the read-only path),
  // or x.
  const auto row_chunk = [&](int64_t c, float (&v)[kChunk]) {
    if constexpr (kResidual) {
      vector8::load(sum_out + row * dim + c * kChunk, v);
    } else {
      vector8::load(x + row * dim + c * kChunk, v);
    }
  };
  const float mean = warp_sum(sum) / float(dim);
  float squares = 0.0f;
  for (int64_t c = lane; c < chunks; c += 32) {
    float v[kChunk];
    row_chunk(c, v);
    for (int i = 0; i < kChunk; ++i) squares += (v[i] - mean) * (v[i] - mean);
  }
  const float rstd = rsqrtf(warp_sum(squares) / float(dim) + eps);
  const float* g = gain ? gain + b * affine_stride : nullptr;
  const float* h = bias ? bias + b * affine_stride : nullptr;
  for (int64_t c = lane; c < chunks; c += 32) {
    const int64_t channel = c * kChunk;
    float v[kChunk];
    row_chunk(c, v);
    for (int i = 0; i < kChunk; ++i) v[i] = (v[i] - mean) * rstd;
    if (g) {
      float w[kChunk], s[kChunk];
      vector8::load(g + channel, w);
      vector8::load(h + channel, s);
      for (int i = 0; i < kChunk; ++i) v[i] = v[i] * w[i] + s[i];
    }
    vector8::store(out + row * dim + channel, v);
  }
}

template <typename In, typename Out>
struct Launch {
  static void run(const LayerNormAffineCudaArgs& a, cudaStream_t stream) {
    const int64_t rows = a.batch * a.tokens;
    const unsigned blocks = unsigned((rows + kWarpsPerBlock - 1) / kWarpsPerBlock);
    const In* x = static_cast<const In*>(a.x);
    const Out* y = static_cast<const Out*>(a.y);
    Out* out = static_cast<Out*>(a.out);
    // The residual only over a float32 stream: no kernel for the combinations nothing calls.
    if constexpr (std::is_same_v<In, float>) {
      if (a.y) {
        layer_norm_affine_kernel<In, Out, true><<<blocks, kWarpsPerBlock * 32, 0, stream>>>(
            x, y, a.gate, a.sum, a.gain, a.bias, a.affine_stride, out, rows, a.tokens, a.dim, a.eps);
        return;
      }
    }
    layer_norm_affine_kernel<In, Out, false><<<blocks, kWarpsPerBlock * 32, 0, stream>>>(
        x, nullptr, nullptr, nullptr, a.gain, a.bias, a.affine_stride, out, rows, a.tokens, a.dim, a.eps);
  }
};

}  // namespace

bool layer_norm_affine_cuda_supports(int64_t dim) { return dim > 0 && dim % kChunk == 0; }

void launch_layer_norm_affine(const LayerNormAffineCudaArgs& a, cudaStream_t stream) {
  // Launch::run has a residual kernel only over float32 rows: anything else would leave `sum` unwritten.
  if (a.y && a.input != RowElement::Float32) {
    throw std::invalid_argument("launch_layer_norm_affine: a residual needs float32 rows (x)");
  }
  if (a.batch * a.tokens == 0) return;
  dispatch_row_elements<Launch>(a.input, a.output, a, stream);
}

}  // namespace svgear
