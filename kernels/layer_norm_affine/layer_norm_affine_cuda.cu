#include "kernels/layer_norm_affine/layer_norm_affine_cuda.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <stdexcept>
#include <type_traits>

#include "kernels/common/row_element_dispatch.cuh"
#include "kernels/common/vector8.cuh"

namespace svgear {
namespace {

// A row of x (B·N rows of dim channels) is held in registers by `row_warps` warps of a block (1, 2,
// 4 or 8: the fewest with dim ≤ 2048 · row_warps), each lane holding up to kChunksPerLane chunks of
// 8 consecutive channels (chunk c of the row sits at lane c % lanes_per_row, slot c / lanes_per_row).
// So x, y and the gate are read once with every chunk of a lane in flight together, and the mean,
// the mean of squared deviations (stable, as ATen's Welford is; not the cancelling E[x²] − E[x]²) and
// the normalised values come from registers. Memory-bound: one read of x and one write of the
// result, 300 MB at Wan-1.3B 480p from a float32 stream to bf16; with the residual, also one read of
// y and one write of the sum (600 MB). Until the thirty-first session a warp walked its row three
// times, one chunk at a time, the second and third reads from L1 or L2: 3.15 TB/s at 480p.
constexpr int kWarpsPerBlock = 8;
constexpr int kChunk = vector8::kSize;
constexpr int kChunksPerLane = 8;
constexpr int64_t kMaxDim = int64_t(kChunk) * kChunksPerLane * 32 * kWarpsPerBlock;  // 16384

__device__ __forceinline__ float warp_sum(float v) {
  for (int delta = 16; delta > 0; delta /= 2) v += __shfl_xor_sync(0xffffffffu, v, delta);
  return v;
}

// The sum of `v` over the row's warps: each warp's sum through shared memory (`partial`, one slot
// per warp of the block). Every thread of the block calls it, rows past the end included.
__device__ __forceinline__ float row_sum(float v, float* partial, int row_warps) {
  const int warp = threadIdx.x / 32;
  v = warp_sum(v);
  if (row_warps == 1) return v;
  if (threadIdx.x % 32 == 0) partial[warp] = v;
  __syncthreads();
  const int first = warp - warp % row_warps;
  float total = 0.0f;
  for (int i = 0; i < row_warps; ++i) total += partial[first + i];
  return total;
}

template <typename In, typename Out, bool kResidual>
__global__ void __launch_bounds__(kWarpsPerBlock * 32)
    layer_norm_affine_kernel(const In* __restrict__ x, const Out* __restrict__ y, const float* __restrict__ gate,
                             float* __restrict__ sum_out, const float* __restrict__ gain,
                             const float* __restrict__ bias, int64_t affine_stride, Out* __restrict__ out,
                             int64_t rows, int64_t tokens, int64_t dim, float eps, int row_warps) {
  __shared__ float partial_sums[kWarpsPerBlock], partial_squares[kWarpsPerBlock];
  const int warp = threadIdx.x / 32;
  const int lanes_per_row = 32 * row_warps;
  const int64_t row = blockIdx.x * int64_t(kWarpsPerBlock / row_warps) + warp / row_warps;  // b · N + t
  const int lane = (warp % row_warps) * 32 + threadIdx.x % 32;  // within the row
  const bool active = row < rows;  // no return: a row of several warps meets the others at row_sum
  const int64_t chunks = dim / kChunk;
  const int64_t b = active ? row / tokens : 0;
  const auto has = [&](int k) { return active && lane + int64_t(k) * lanes_per_row < chunks; };
  const auto channel = [&](int k) { return (lane + int64_t(k) * lanes_per_row) * kChunk; };

  float v[kChunksPerLane][kChunk];
  float sum = 0.0f;
#pragma unroll
  for (int k = 0; k < kChunksPerLane; ++k) {
    if (!has(k)) continue;
    vector8::load(x + row * dim + channel(k), v[k]);
    if constexpr (kResidual) {
      // addcmul's x + y · gate in float32.
      float r[kChunk];
      vector8::load(y + row * dim + channel(k), r);
      if (gate) {
        float g[kChunk];
        vector8::load(gate + b * dim + channel(k), g);
        for (int i = 0; i < kChunk; ++i) v[k][i] += r[i] * g[i];
      } else {
        for (int i = 0; i < kChunk; ++i) v[k][i] += r[i];
      }
      vector8::store(sum_out + row * dim + channel(k), v[k]);
    }
    for (int i = 0; i < kChunk; ++i) sum += v[k][i];
  }
  const float mean = row_sum(sum, partial_sums, row_warps) / float(dim);
  float squares = 0.0f;
#pragma unroll
  for (int k = 0; k < kChunksPerLane; ++k) {
    if (!has(k)) continue;
    for (int i = 0; i < kChunk; ++i) squares += (v[k][i] - mean) * (v[k][i] - mean);
  }
  const float rstd = rsqrtf(row_sum(squares, partial_squares, row_warps) / float(dim) + eps);
  const float* g = gain ? gain + b * affine_stride : nullptr;
  const float* h = bias ? bias + b * affine_stride : nullptr;
#pragma unroll
  for (int k = 0; k < kChunksPerLane; ++k) {
    if (!has(k)) continue;
    for (int i = 0; i < kChunk; ++i) v[k][i] = (v[k][i] - mean) * rstd;
    if (g) {
      float w[kChunk], s[kChunk];
      vector8::load(g + channel(k), w);
      vector8::load(h + channel(k), s);
      for (int i = 0; i < kChunk; ++i) v[k][i] = v[k][i] * w[i] + s[i];
    }
    vector8::store(out + row * dim + channel(k), v[k]);
  }
}

// The fewest warps per row that hold it (dim ≤ layer_norm_affine_cuda_supports's bound).
int row_warps_for(int64_t dim) {
  int warps = 1;
  while (int64_t(kChunk) * kChunksPerLane * 32 * warps < dim) warps *= 2;
  return warps;
}

template <typename In, typename Out>
struct Launch {
  static void run(const LayerNormAffineCudaArgs& a, cudaStream_t stream) {
    const int64_t rows = a.batch * a.tokens;
    const int row_warps = row_warps_for(a.dim);
    const int64_t rows_per_block = kWarpsPerBlock / row_warps;
    const unsigned blocks = unsigned((rows + rows_per_block - 1) / rows_per_block);
    const In* x = static_cast<const In*>(a.x);
    const Out* y = static_cast<const Out*>(a.y);
    Out* out = static_cast<Out*>(a.out);
    // The residual only over a float32 stream: no kernel for the combinations nothing calls.
    if constexpr (std::is_same_v<In, float>) {
      if (a.y) {
        layer_norm_affine_kernel<In, Out, true><<<blocks, kWarpsPerBlock * 32, 0, stream>>>(
            x, y, a.gate, a.sum, a.gain, a.bias, a.affine_stride, out, rows, a.tokens, a.dim, a.eps, row_warps);
        return;
      }
    }
    layer_norm_affine_kernel<In, Out, false><<<blocks, kWarpsPerBlock * 32, 0, stream>>>(
        x, nullptr, nullptr, nullptr, a.gain, a.bias, a.affine_stride, out, rows, a.tokens, a.dim, a.eps, row_warps);
  }
};

}  // namespace

bool layer_norm_affine_cuda_supports(int64_t dim) { return dim > 0 && dim % kChunk == 0 && dim <= kMaxDim; }

void launch_layer_norm_affine(const LayerNormAffineCudaArgs& a, cudaStream_t stream) {
  // Launch::run has a residual kernel only over float32 rows: anything else would leave `sum` unwritten.
  if (a.y && a.input != RowElement::Float32) {
    throw std::invalid_argument("launch_layer_norm_affine: a residual needs float32 rows (x)");
  }
  if (!layer_norm_affine_cuda_supports(a.dim)) {
    throw std::invalid_argument("launch_layer_norm_affine: dim must be a multiple of 8 up to 16384");
  }
  if (a.batch * a.tokens == 0) return;
  dispatch_row_elements<Launch>(a.input, a.output, a, stream);
}

}  // namespace svgear
