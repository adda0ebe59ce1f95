#pragma once
// WanVaeWeights: the tensors of a Wan VAE decoder (2.1 or 2.2, wan_vae_config.h) as typed members,
// each under the original checkpoint key it loads from (the layout of Wan2.1_VAE.pth /
// Wan2.2_VAE.pth and of ComfyUI's wan_2.1_vae.safetensors / wan2.2_vae.safetensors). The encoder's
// tensors are ignored.
//
//   WanVaeWeights w = WanVaeWeights::load("wan2.2_vae.safetensors");  // config from the shapes
//   w.to(at::kCUDA, at::kBFloat16);
//
// Loading reads the Diffusers layout too (AutoencoderKLWan, renamed once: wan_vae_weight_names.h),
// refuses pickles (.pth, .ckpt) with the name of the file to use instead, lists every missing
// tensor and every shape or dtype mismatch at once, and converts fp16 / bf16 / fp32 tensors to
// float32.

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "core/decoder/wan_vae_config.h"

namespace svgear {

// upstream ResidualBlock: RMS_norm, SiLU, CausalConv3d 3³, RMS_norm, SiLU, CausalConv3d 3³, plus a
// 1³ shortcut when the channel count changes.
struct WanVaeResidualWeights {
  // {block}.residual.0.gamma  [in, 1, 1, 1]
  at::Tensor residual_0_gamma;
  // {block}.residual.2.weight  [out, in, 3, 3, 3]
  at::Tensor residual_2_weight;
  // {block}.residual.2.bias  [out]
  at::Tensor residual_2_bias;
  // {block}.residual.3.gamma  [out, 1, 1, 1]
  at::Tensor residual_3_gamma;
  // {block}.residual.6.weight  [out, out, 3, 3, 3]
  at::Tensor residual_6_weight;
  // {block}.residual.6.bias  [out]
  at::Tensor residual_6_bias;
  // {block}.shortcut.weight  [out, in, 1, 1, 1] (in != out only)
  at::Tensor shortcut_weight;
  // {block}.shortcut.bias  [out] (in != out only)
  at::Tensor shortcut_bias;
};

// upstream AttentionBlock: single-head self-attention within each frame.
struct WanVaeAttentionWeights {
  // {block}.norm.gamma  [dim, 1, 1]
  at::Tensor norm_gamma;
  // {block}.to_qkv.weight  [3 * dim, dim, 1, 1]
  at::Tensor to_qkv_weight;
  // {block}.to_qkv.bias  [3 * dim]
  at::Tensor to_qkv_bias;
  // {block}.proj.weight  [dim, dim, 1, 1]
  at::Tensor proj_weight;
  // {block}.proj.bias  [dim]
  at::Tensor proj_bias;
};

// upstream Resample, upsample2d or upsample3d: nearest 2× in space then a 3×3 conv (halving the
// channels in 2.1, keeping them in 2.2); upsample3d first doubles the frames with time_conv.
struct WanVaeUpsampleWeights {
  // {block}.resample.1.weight  [dim / 2 (2.1) or dim (2.2), dim, 3, 3]
  at::Tensor resample_1_weight;
  // {block}.resample.1.bias  [dim / 2 or dim]
  at::Tensor resample_1_bias;
  // {block}.time_conv.weight  [2 * dim, dim, 3, 1, 1] (upsample3d only)
  at::Tensor time_conv_weight;
  // {block}.time_conv.bias  [2 * dim] (upsample3d only)
  at::Tensor time_conv_bias;
};

// One decoder stage: its entries j at config.upsample_entry_prefix(stage, j) (2.2: upstream
// Up_ResidualBlock, whose DupUp3D shortcut has no tensors).
struct WanVaeStageWeights {
  std::vector<WanVaeResidualWeights> blocks;  // num_res_blocks + 1
  WanVaeUpsampleWeights upsample;             // undefined tensors in the last stage
  bool has_upsample() const { return upsample.resample_1_weight.defined(); }
};

struct WanVaeWeights {
  WanVaeConfig config;
  // conv2.weight  [z_dim, z_dim, 1, 1, 1]
  at::Tensor conv2_weight;
  // conv2.bias  [z_dim]
  at::Tensor conv2_bias;
  // decoder.conv1.weight  [dims[0], z_dim, 3, 3, 3]
  at::Tensor decoder_conv1_weight;
  // decoder.conv1.bias  [dims[0]]
  at::Tensor decoder_conv1_bias;
  // decoder.middle.0.*
  WanVaeResidualWeights middle_0;
  // decoder.middle.1.*
  WanVaeAttentionWeights middle_1;
  // decoder.middle.2.*
  WanVaeResidualWeights middle_2;
  // decoder.upsamples.*
  std::vector<WanVaeStageWeights> upsamples;
  // decoder.head.0.gamma  [dims[-1], 1, 1, 1]
  at::Tensor head_0_gamma;
  // decoder.head.2.weight  [3·patch², dims[-1], 3, 3, 3]
  at::Tensor head_2_weight;
  // decoder.head.2.bias  [3·patch²]
  at::Tensor head_2_bias;

  // The layout for `config`: every tensor an empty meta tensor of its expected shape.
  static WanVaeWeights meta(const WanVaeConfig& config);

  // Reads a .safetensors file; the config comes from its shapes (WanVaeConfig::from_shapes).
  // Throws UserError (WeightsError) as described at the top of this file.
  static WanVaeWeights load(const std::filesystem::path& path);
  // The config of a VAE file from its header alone (no tensor is read); throws like load for
  // pickles and files that are not safetensors.
  static WanVaeConfig read_config(const std::filesystem::path& path);
  // load()'s checks from the header alone (every tensor's name, shape and dtype; load runs them
  // before it reads a tensor).
  static void check_file(const std::filesystem::path& path);

  using TensorVisitor = std::function<void(const std::string& name, at::Tensor& tensor)>;
  // Calls `visit` with the original name of every defined tensor, in checkpoint order.
  void for_each_tensor(const TensorVisitor& visit);

  // Moves every tensor to `device` as `dtype`.
  void to(at::Device device, at::ScalarType dtype);
};

// The VAE version a file's name suggests (Wan-AI's Wan2.2_VAE.pth, ComfyUI's wan2.2_vae.safetensors:
// Wan 2.2; any other: Wan 2.1), for naming the file to use instead of one that cannot be read.
WanVaeVersion wan_vae_version_from_name(const std::filesystem::path& path);

// The safetensors file of each VAE version and where to get it, for messages:
// "wan2.2_vae.safetensors (Comfy-Org/Wan_2.2_ComfyUI_Repackaged, split_files/vae/)".
const char* wan_vae_download(WanVaeVersion version);

}  // namespace svgear
