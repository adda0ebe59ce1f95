#pragma once
// WanWeights: the tensors of a Wan 2.1 DiT as typed members, each under the original checkpoint
// key it loads from. Loading finds every tensor in any of the given files, strips a wrapper prefix
// ("model.diffusion_model." in ComfyUI files), renames Diffusers keys, checks every shape against
// the config and converts each tensor to its dtype on its device (load); to() moves them later.

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "core/cancel_token.h"
#include "core/weights/load_progress.h"
#include "core/model/wan_config.h"

namespace svgear {

class SafetensorsFile;

// What to() does with a tensor: matmul operands follow the compute dtype; norms, modulation and the
// layers upstream runs under autocast(float32) (time embedding, time projection, head) stay fp32;
// a block's linear weight kept in e4m3 (Fp8: an fp8 checkpoint's, plain or scaled, its scale
// beside it) stays e4m3.
enum class WeightPrecision { Unset, Compute, Float32, Fp8 };

// The dtype a tensor of `precision` is held in for a compute dtype (to(), swap_places, the memory checks).
at::ScalarType held_dtype(WeightPrecision precision, at::ScalarType compute);

struct WanBlockWeights {
  // blocks.{i}.modulation  [1, 6, dim]
  at::Tensor modulation;
  // blocks.{i}.self_attn.q.weight  [dim, dim]
  at::Tensor self_attn_q_weight;
  // blocks.{i}.self_attn.q.bias  [dim]
  at::Tensor self_attn_q_bias;
  // blocks.{i}.self_attn.k.weight  [dim, dim]
  at::Tensor self_attn_k_weight;
  // blocks.{i}.self_attn.k.bias  [dim]
  at::Tensor self_attn_k_bias;
  // blocks.{i}.self_attn.v.weight  [dim, dim]
  at::Tensor self_attn_v_weight;
  // blocks.{i}.self_attn.v.bias  [dim]
  at::Tensor self_attn_v_bias;
  // blocks.{i}.self_attn.o.weight  [dim, dim]
  at::Tensor self_attn_o_weight;
  // blocks.{i}.self_attn.o.bias  [dim]
  at::Tensor self_attn_o_bias;
  // blocks.{i}.self_attn.norm_q.weight  [dim] (qk_norm only)
  at::Tensor self_attn_norm_q_weight;
  // blocks.{i}.self_attn.norm_k.weight  [dim] (qk_norm only)
  at::Tensor self_attn_norm_k_weight;
  // blocks.{i}.norm3.weight  [dim] (cross_attn_norm only)
  at::Tensor norm3_weight;
  // blocks.{i}.norm3.bias  [dim] (cross_attn_norm only)
  at::Tensor norm3_bias;
  // blocks.{i}.cross_attn.q.weight  [dim, dim]
  at::Tensor cross_attn_q_weight;
  // blocks.{i}.cross_attn.q.bias  [dim]
  at::Tensor cross_attn_q_bias;
  // blocks.{i}.cross_attn.k.weight  [dim, dim]
  at::Tensor cross_attn_k_weight;
  // blocks.{i}.cross_attn.k.bias  [dim]
  at::Tensor cross_attn_k_bias;
  // blocks.{i}.cross_attn.v.weight  [dim, dim]
  at::Tensor cross_attn_v_weight;
  // blocks.{i}.cross_attn.v.bias  [dim]
  at::Tensor cross_attn_v_bias;
  // blocks.{i}.cross_attn.o.weight  [dim, dim]
  at::Tensor cross_attn_o_weight;
  // blocks.{i}.cross_attn.o.bias  [dim]
  at::Tensor cross_attn_o_bias;
  // blocks.{i}.cross_attn.norm_q.weight  [dim] (qk_norm only)
  at::Tensor cross_attn_norm_q_weight;
  // blocks.{i}.cross_attn.norm_k.weight  [dim] (qk_norm only)
  at::Tensor cross_attn_norm_k_weight;
  // blocks.{i}.ffn.0.weight  [ffn_dim, dim]
  at::Tensor ffn_0_weight;
  // blocks.{i}.ffn.0.bias  [ffn_dim]
  at::Tensor ffn_0_bias;
  // blocks.{i}.ffn.2.weight  [dim, ffn_dim]
  at::Tensor ffn_2_weight;
  // blocks.{i}.ffn.2.bias  [dim]
  at::Tensor ffn_2_bias;
  // blocks.{i}.<linear>.scale_weight  float32, [] (one value) or [rows]: the
  // scale of a linear weight kept in e4m3 (the weight is e4m3(weight / scale); 1 for plain e4m3);
  // undefined for the others.
  at::Tensor self_attn_q_scale, self_attn_k_scale, self_attn_v_scale, self_attn_o_scale;
  at::Tensor cross_attn_q_scale, cross_attn_k_scale, cross_attn_v_scale, cross_attn_o_scale;
  at::Tensor ffn_0_scale, ffn_2_scale;

  // The dtype the norms hand to the projections: the biases', which follow the compute dtype also
  // where the linear weights are kept in e4m3 (under the trainer's autocast, float32 like the weights).
  at::ScalarType compute_dtype() const { return self_attn_q_bias.scalar_type(); }

  // The block's ten linear layers, for code that treats them alike (keeping them in e4m3).
  struct Linear {
    const char* name;  // "self_attn.q", of blocks.{i}.self_attn.q.weight
    at::Tensor* weight;
    at::Tensor* scale;
  };
  std::array<Linear, 10> linears();
};

// A weight kept in e4m3 as the matmul takes it: e4m3 · scale (one scale, or one per row) in float32,
// then in `dtype`. Loading dequantises the weights it does not keep in e4m3 the same way, so a kept
// weight gives the same products as a dequantised one.
at::Tensor dequantized_fp8(const at::Tensor& weight, const at::Tensor& scale, at::ScalarType dtype);

// `weight` as ComfyUI's scaled fp8 stores one: {e4m3(weight / scale), scale}, the float32 scale its
// largest magnitude over e4m3's largest finite value (448), on the weight's device.
std::pair<at::Tensor, at::Tensor> quantized_fp8(const at::Tensor& weight);

struct WanWeights {
  // patch_embedding.weight  [dim, in_dim, patch_t, patch_h, patch_w]
  at::Tensor patch_embedding_weight;
  // patch_embedding.bias  [dim]
  at::Tensor patch_embedding_bias;
  // text_embedding.0.weight  [dim, text_dim]
  at::Tensor text_embedding_0_weight;
  // text_embedding.0.bias  [dim]
  at::Tensor text_embedding_0_bias;
  // text_embedding.2.weight  [dim, dim]
  at::Tensor text_embedding_2_weight;
  // text_embedding.2.bias  [dim]
  at::Tensor text_embedding_2_bias;
  // time_embedding.0.weight  [dim, freq_dim]
  at::Tensor time_embedding_0_weight;
  // time_embedding.0.bias  [dim]
  at::Tensor time_embedding_0_bias;
  // time_embedding.2.weight  [dim, dim]
  at::Tensor time_embedding_2_weight;
  // time_embedding.2.bias  [dim]
  at::Tensor time_embedding_2_bias;
  // time_projection.1.weight  [6 * dim, dim]
  at::Tensor time_projection_1_weight;
  // time_projection.1.bias  [6 * dim]
  at::Tensor time_projection_1_bias;
  // blocks.{i}.*
  std::vector<WanBlockWeights> blocks;
  // head.modulation  [1, 2, dim]
  at::Tensor head_modulation;
  // head.head.weight  [out_dim * patch_t * patch_h * patch_w, dim]
  at::Tensor head_head_weight;
  // head.head.bias  [out_dim * patch_t * patch_h * patch_w]
  at::Tensor head_head_bias;

  // The fp8 weights a load keeps in e4m3: the scale's name ("blocks.3.ffn.0.scale_weight") and
  // shape as held ([] for one value, [rows] for one per row, whatever the file's shape), for each
  // of the blocks' linear weights stored in e4m3 with such a scale beside it, or with none (plain
  // e4m3: a scale of 1, shape []).
  using Fp8Scales = std::map<std::string, std::vector<int64_t>>;
  static Fp8Scales fp8_scales(const std::vector<std::shared_ptr<SafetensorsFile>>& files);
  // Every block linear of `config` kept in e4m3 with one scale: what keep_block_linears_in_fp8 gives.
  static Fp8Scales every_block_linear(const WanConfig& config);
  // What load() keeps in e4m3: fp8_scales, and with `quantize_fp8` every other block linear the
  // files hold wider and without a scale (a scale fp8_scales refused goes to load's messages).
  // The memory checks count the same layout.
  static Fp8Scales fp8_layout(const WanConfig& config, const std::vector<std::shared_ptr<SafetensorsFile>>& files,
                              bool quantize_fp8);

  // The layout for `config`: every tensor an empty meta tensor of its expected shape (no memory),
  // the linear weights in `fp8` in e4m3 with their scales.
  static WanWeights meta(const WanConfig& config, const Fp8Scales& fp8 = {});

  // Throws WeightsError listing every missing tensor and every shape mismatch at once, before any
  // tensor is read (check_files), and every scale that is no finite number as they load. Each tensor
  // goes from the file straight to `device`, Compute tensors in `compute_dtype` and
  // Float32 ones in float32, one tensor at a time: the host never holds a float32 copy of the model
  // (57 GB for Wan 14B), only the file's pages and one converted tensor. fp8: the blocks' linear
  // weights stored in e4m3 (fp8_scales) stay e4m3 with their scales, half the memory of bf16, and
  // the block dequantises each for its matmul; other scaled weights are dequantised as they load.
  // `cancel`, when given, is polled before each tensor (a set token throws Cancelled). With
  // `quantize_fp8` the blocks' other linear weights are quantised as they load (quantized_fp8, on
  // `device`): ModelOptions::dit_fp8, half the memory of bf16 for e4m3's rounding. `progress`, when
  // given, counts each tensor read (its caller starts and ends the part).
  static WanWeights load(const WanConfig& config, const std::vector<std::shared_ptr<SafetensorsFile>>& files,
                         at::Device device = at::Device(at::kCPU), at::ScalarType compute_dtype = at::kFloat,
                         const CancelToken* cancel = nullptr, bool quantize_fp8 = false,
                         LoadProgress* progress = nullptr);
  // load()'s checks from the headers alone, reading no tensor: throws its WeightsError for every
  // missing tensor, wrong shape or type and misfit scale, and for blocks past the config's layers.
  // load() runs them first; a Wan model's load runs them before its text encoder's gigabytes.
  static void check_files(const WanConfig& config, const std::vector<std::shared_ptr<SafetensorsFile>>& files,
                          bool quantize_fp8 = false);

  // Throws WeightsError when the files are quantized per layer (ComfyUI's newer weight_scale /
  // comfy_quant format), from the headers: the model scan checks it before the text encoder's
  // gigabytes are read, load() again. The older scaled fp8 (*_fp8_scaled, a scale_weight beside
  // each fp8 weight) loads.
  static void refuse_layer_quantization(const std::vector<std::shared_ptr<SafetensorsFile>>& files);

  // Throws WeightsError naming every scale beside a weight of `config` that is no scale scaled fp8
  // stores (load's "wrong scale" lines for it), from the headers. fp8_scales leaves such a weight
  // out, so Model::load checks each of a pair's experts here before it compares how they are stored:
  // otherwise a bad scale would be reported as two experts not stored alike.
  static void refuse_misfit_scales(const WanConfig& config, const std::vector<std::shared_ptr<SafetensorsFile>>& files);

  using TensorVisitor = std::function<void(const std::string& name, at::Tensor& tensor,
                                           WeightPrecision precision)>;
  using ConstTensorVisitor = std::function<void(const std::string& name, const at::Tensor& tensor,
                                                WeightPrecision precision)>;
  // Call `visit` with the original name of every defined tensor, in checkpoint order.
  void for_each_tensor(const ConstTensorVisitor& visit) const;
  void for_each_tensor_mutable(const TensorVisitor& visit);

  // (original name, tensor) pairs, ready for write_safetensors.
  std::vector<std::pair<std::string, at::Tensor>> state_dict() const;

  // Quantises the blocks' linear weights to e4m3 as ComfyUI's scaled fp8 stores them (one float32
  // scale per weight: its largest magnitude over e4m3's largest finite value, 448), on their device;
  // `svgear bench step --fp8` times the kept-fp8 path with it.
  void keep_block_linears_in_fp8();

  // Moves every tensor to `device`; Compute tensors become `dtype`, Float32 ones stay float32, Fp8
  // ones e4m3.
  void to(at::Device device, at::ScalarType dtype);
  // Moves `to_host` to the CPU and `to_device` to `device` (as to() does) tensor by tensor in
  // lockstep: two weights of one config (Wan2.2-A14B's experts) trade places while neither the GPU
  // nor the host holds more than one of them and a tensor. A failure midway (out of memory) leaves
  // every tensor whole on one side; calling again finishes the move. Where the arriving weights
  // are page-locked (page_lock), each leaving tensor takes its arriving one's host memory, so the
  // host side stays page-locked and nothing is allocated there.
  static void swap_places(WanWeights& to_host, WanWeights& to_device, at::Device device, at::ScalarType dtype);
  // Page-locks the host tensors (page_locked: each one's own memory in place, else a copy of exactly
  // its size, one at a time) where the build has CUDA and the system allows it; the others stay
  // pageable. For weights that will trade places with `gpu`'s (swap_places): 23 s per 14B move from
  // pageable memory on an H200, 1.1 s from page-locked memory.
  // Returns whether every host tensor is page-locked now.
  bool page_lock(at::Device gpu);
};

}  // namespace svgear
