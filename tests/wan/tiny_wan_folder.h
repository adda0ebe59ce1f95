#pragma once
// Tiny Wan model folders written by the tests, in the layouts users download: the DiT, umT5 and
// VAE of ../shared/testvectors/wan/ re-saved under the names, dtypes and file splits of the
// ComfyUI files and of the Diffusers repository, with a small tokenizer.json.

#include <filesystem>

namespace svgear::test {

// <dir>/wan2.1_t2v_tiny_fp32.safetensors ("model.diffusion_model." prefix), config.json (upstream
// WanModel config: 2 heads, text_len 16), umt5_xxl_fp16.safetensors (Hugging Face names, fp16),
// wan_2.1_vae.safetensors, google/umt5-xxl/tokenizer.json.
std::filesystem::path write_tiny_wan_original(const std::filesystem::path& dir);

// <dir>/transformer/ (two shards in Diffusers names + index, Diffusers config.json),
// text_encoder/ (two Hugging Face shards + index), tokenizer/tokenizer.json and
// vae/diffusion_pytorch_model.safetensors (AutoencoderKLWan names, decoder half).
std::filesystem::path write_tiny_wan_diffusers(const std::filesystem::path& dir);

}  // namespace svgear::test
