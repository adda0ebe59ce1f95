#include "kernels/rms_norm_rope/rms_norm_rope_cuda.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "kernels/common/row_element_dispatch.cuh"
#include "kernels/common/vector8.cuh"

namespace svgear {
namespace {

// One warp per token row of x (B·N rows of heads·d channels). A lane takes kChunk = 8 consecutive
// channels at a time: four channel pairs of one head (d is a multiple of 8), one 16-byte load of a
// 16-bit x. Pass 1 sums the row's squares (warp butterfly); pass 2 reads the row again (L1) to
// normalise, round to x's dtype, apply the gain, rotate the pairs (unless rotation is null) and
// store the 8 channels at their head's place in the heads-first output (tokens first: at their own
// place). The op moves 2 × 100 MB at Wan-1.3B 480p: memory-bound.
constexpr int kWarpsPerBlock = 8;
constexpr int kChunk = vector8::kSize;

// A float rounded to T and back: upstream rounds the normalised value to x's dtype before the gain.
__device__ __forceinline__ float round_to(float v, const __nv_bfloat16*) { return __bfloat162float(__float2bfloat16_rn(v)); }
__device__ __forceinline__ float round_to(float v, const __half*) { return __half2float(__float2half_rn(v)); }
__device__ __forceinline__ float round_to(float v, const float*) { return v; }

template <typename In, typename Out>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    rms_norm_rope_kernel(const In* __restrict__ x, const float* __restrict__ weight,
                         const float* __restrict__ rotation, Out* __restrict__ out, int64_t rows, int64_t tokens,
                         int64_t heads, int64_t head_dim, float eps, bool tokens_first) {
  const int64_t row = blockIdx.x * int64_t(kWarpsPerBlock) + threadIdx.x / 32;  // b · N + t
  const int lane = threadIdx.x % 32;
  if (row >= rows) return;  // the whole warp: the butterfly below has every lane
  const int64_t dim = heads * head_dim, chunks = dim / kChunk;
  const In* xr = x + row * dim;
  float scale = 1.0f;
  if (weight) {
    float squares = 0.0f;
    for (int64_t c = lane; c < chunks; c += 32) {
      float v[kChunk];
      vector8::load(xr + c * kChunk, v);
      for (int i = 0; i < kChunk; ++i) squares += v[i] * v[i];
    }
    for (int delta = 16; delta > 0; delta /= 2) squares += __shfl_xor_sync(0xffffffffu, squares, delta);
    scale = rsqrtf(squares / float(dim) + eps);
  }
  const int64_t b = row / tokens, t = row % tokens;
  const float* rot = rotation ? rotation + t * head_dim : nullptr;  // the token's d/2 (cos, sin) pairs
  for (int64_t c = lane; c < chunks; c += 32) {
    const int64_t channel = c * kChunk;
    float v[kChunk];
    vector8::load(xr + channel, v);
    if (weight) {
      float w[kChunk];
      vector8::load(weight + channel, w);
      for (int i = 0; i < kChunk; ++i) v[i] = round_to(v[i] * scale, x) * w[i];
    }
    const int64_t head = channel / head_dim, within = channel % head_dim;
    if (rot) {
      float r[kChunk];  // (cos, sin) of the four pairs
      vector8::load(rot + within, r);
      for (int p = 0; p < kChunk / 2; ++p) {  // (even + i·odd) · (cos + i·sin)
        const float even = v[2 * p], odd = v[2 * p + 1], cosine = r[2 * p], sine = r[2 * p + 1];
        v[2 * p] = even * cosine - odd * sine;
        v[2 * p + 1] = odd * cosine + even * sine;
      }
    }
    const int64_t offset = tokens_first ? row * dim + channel : ((b * heads + head) * tokens + t) * head_dim + within;
    vector8::store(out + offset, v);
  }
}

template <typename In, typename Out>
struct Launch {
  static void run(const RmsNormRopeCudaArgs& a, cudaStream_t stream) {
    const int64_t rows = a.batch * a.tokens;
    const unsigned blocks = unsigned((rows + kWarpsPerBlock - 1) / kWarpsPerBlock);
    rms_norm_rope_kernel<In, Out><<<blocks, kWarpsPerBlock * 32, 0, stream>>>(
        static_cast<const In*>(a.x), a.weight, a.rotation, static_cast<Out*>(a.out), rows, a.tokens, a.heads,
        a.head_dim, a.eps, a.tokens_first);
  }
};

}  // namespace

bool rms_norm_rope_cuda_supports(int64_t head_dim) { return head_dim > 0 && head_dim % kChunk == 0; }

void launch_rms_norm_rope(const RmsNormRopeCudaArgs& a, cudaStream_t stream) {
  if (a.batch * a.tokens == 0 || a.heads == 0) return;
  dispatch_row_elements<Launch>(a.input, a.output, a, stream);
}

}  // namespace svgear
