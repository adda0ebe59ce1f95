#pragma once
// Tiny Wan model folders written by the tests, in the layouts users download: the DiT, umT5 and
// VAE of ../shared/testvectors/wan/ re-saved under the names, dtypes and file splits of the
// ComfyUI files and of the Diffusers repository, with a small tokenizer.json. Wan2.2-TI2V-5B
// folders have no reference model: a random DiT of the tiny config with 48 latent channels and
// the synthetic 2.2 VAE of tests/decoder/tiny_wan22_vae.h.

#include <filesystem>
#include <optional>
#include <string>

#include "core/model/wan_config.h"

namespace svgear::test {

// <dir>/wan2.1_t2v_tiny_fp32.safetensors ("model.diffusion_model." prefix), config.json (upstream
// WanModel config: 2 heads, text_len 16), umt5_xxl_fp16.safetensors (Hugging Face names, fp16),
// wan_2.1_vae.safetensors, google/umt5-xxl/tokenizer.json.
std::filesystem::path write_tiny_wan_original(const std::filesystem::path& dir);

// As write_tiny_wan_original, the DiT as ComfyUI's *_fp8_scaled files store it
// (wan2.1_t2v_tiny_fp8_scaled.safetensors: tests/model/tiny_wan.h's tiny_wan_scaled_fp8).
std::filesystem::path write_tiny_wan_fp8_scaled(const std::filesystem::path& dir);

// <dir>/transformer/ (two shards in Diffusers names + index, Diffusers config.json),
// text_encoder/ (two Hugging Face shards + index), tokenizer/tokenizer.json and
// vae/diffusion_pytorch_model.safetensors (AutoencoderKLWan names, decoder half).
std::filesystem::path write_tiny_wan_diffusers(const std::filesystem::path& dir);

// The tiny DiT's config with 48 latent channels in and out (the TI2V-5B family).
WanConfig tiny_wan22_ti2v_config();

// As write_tiny_wan_original, with wan2.2_ti2v_tiny_fp32.safetensors (random weights of
// tiny_wan22_ti2v_config) and wan2.2_vae.safetensors instead of the 2.1 DiT and VAE.
std::filesystem::path write_tiny_wan22_ti2v_original(const std::filesystem::path& dir);

// As write_tiny_wan_diffusers, with the same TI2V DiT (Diffusers names, two shards) and the
// synthetic 2.2 VAE in the Diffusers names of the 2.2 AutoencoderKLWan.
std::filesystem::path write_tiny_wan22_ti2v_diffusers(const std::filesystem::path& dir);

// The UserError of loading `dir` on the CPU; a test failure (and "") when it loads.
std::string load_error(const std::filesystem::path& dir);

// Wan2.2-A14B-shaped pairs of tiny experts: the high-noise expert is the reference DiT above, the
// low-noise one random weights of the same config (tiny_wan_low_noise_tensors), with umT5, the
// 2.1 VAE and the tokenizer as in the single-DiT folders.
//   ComfyUI:   <dir>/wan2.2_t2v_high_noise_tiny_fp32.safetensors and …_low_noise_… beside them
//   Wan-AI:    <dir>/high_noise_model/ and low_noise_model/ (two shards + index + config.json each;
//              the top holds umT5 and the VAE as safetensors, which Wan-AI ships as pickles)
//   Diffusers: <dir>/transformer/ (high noise) and transformer_2/ (low noise), model_index.json
//              with `boundary_ratio` (none when unset)
std::filesystem::path write_tiny_wan_a14b_comfy(const std::filesystem::path& dir);
std::filesystem::path write_tiny_wan_a14b_wan_ai(const std::filesystem::path& dir);
std::filesystem::path write_tiny_wan_a14b_diffusers(const std::filesystem::path& dir,
                                                    std::optional<double> boundary_ratio = 0.875);

}  // namespace svgear::test
