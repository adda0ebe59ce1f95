#pragma once
// Eight consecutive elements as one 16-byte word of a 16-bit type (two of float32), converted to
// and from float: the row kernels' unit of access (rms_norm_rope, layer_norm_affine). The address
// must be 16-byte aligned (vector_aligned.h on the host side).

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace svgear::vector8 {

constexpr int kSize = 8;

__device__ __forceinline__ void load(const __nv_bfloat16* p, float (&v)[kSize]) {
  const uint4 word = *reinterpret_cast<const uint4*>(p);
  const __nv_bfloat16* e = reinterpret_cast<const __nv_bfloat16*>(&word);
  for (int i = 0; i < kSize; ++i) v[i] = __bfloat162float(e[i]);
}
__device__ __forceinline__ void load(const __half* p, float (&v)[kSize]) {
  const uint4 word = *reinterpret_cast<const uint4*>(p);
  const __half* e = reinterpret_cast<const __half*>(&word);
  for (int i = 0; i < kSize; ++i) v[i] = __half2float(e[i]);
}
__device__ __forceinline__ void load(const float* p, float (&v)[kSize]) {
  const float4 a = reinterpret_cast<const float4*>(p)[0], b = reinterpret_cast<const float4*>(p)[1];
  v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w, v[4] = b.x, v[5] = b.y, v[6] = b.z, v[7] = b.w;
}

__device__ __forceinline__ void store(__nv_bfloat16* p, const float (&v)[kSize]) {
  uint4 word;
  __nv_bfloat16* e = reinterpret_cast<__nv_bfloat16*>(&word);
  for (int i = 0; i < kSize; ++i) e[i] = __float2bfloat16_rn(v[i]);
  *reinterpret_cast<uint4*>(p) = word;
}
__device__ __forceinline__ void store(__half* p, const float (&v)[kSize]) {
  uint4 word;
  __half* e = reinterpret_cast<__half*>(&word);
  for (int i = 0; i < kSize; ++i) e[i] = __float2half_rn(v[i]);
  *reinterpret_cast<uint4*>(p) = word;
}
__device__ __forceinline__ void store(float* p, const float (&v)[kSize]) {
  reinterpret_cast<float4*>(p)[0] = make_float4(v[0], v[1], v[2], v[3]);
  reinterpret_cast<float4*>(p)[1] = make_float4(v[4], v[5], v[6], v[7]);
}

}  // namespace svgear::vector8
