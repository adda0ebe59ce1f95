#pragma once
// How much device memory a Wan model's weights take, estimated from the file headers before
// anything is loaded, and the check that refuses a load the GPU cannot hold. Weights only:
// activations come on top (docs/wan.md), so a load that passes can still run out of memory later.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <c10/core/ScalarType.h>

#include "core/model/wan_config.h"
#include "core/model/wan_weights.h"

namespace svgear {

struct WeightBytes {
  int64_t dit = 0;
  int64_t second_expert = 0;  // Wan2.2-A14B's low-noise expert beside `dit`, the high-noise one
  int64_t text_encoder = 0;
  int64_t vae = 0;
  int64_t idle_expert = 0;  // A14B's expert waiting in host memory (ModelOptions::idle_expert_on_cpu)
  bool dit_in_fp8 = false;  // every block linear in e4m3 already: Diffusion model in fp8 has nothing to halve
  int64_t total() const { return dit + second_expert + text_encoder + vae + idle_expert; }
};

// The DiT as WanWeights::load holds it (matmul weights in `dtype`, those in `fp8` in e4m3 with
// their float32 scales, the rest float32).
int64_t wan_dit_bytes(const WanConfig& config, c10::ScalarType dtype, const WanWeights::Fp8Scales& fp8 = {});
// Every tensor of the files but fp8 scales and tied embedding copies, in `dtype` (the umT5 files
// hold the encoder only).
int64_t umt5_bytes(const std::vector<std::filesystem::path>& files, c10::ScalarType dtype);
// The tensors WanVaeWeights::load takes from a Wan VAE file (the decoder half: conv2 or
// post_quant_conv and decoder.*), in `dtype`; read from the header only.
int64_t wan_vae_decoder_bytes(const std::filesystem::path& file, c10::ScalarType dtype);

// "12.3 GiB": how the memory messages give sizes.
std::string gib(int64_t bytes);

// "" when `needed` fits in `free_bytes`; else a message saying how much is needed (per part) and
// free on `device_name`, and which options move parts off the GPU ("cpu": the host's available
// memory, and what keeps parts off it or, on a GPU, makes the DiT smaller: Diffusion model in fp8
// unless `needed.dit_in_fp8`). The options are named as the studio's Model dock shows them and as
// the CLI's flags, here and in gpu_memory_remedies.
std::string memory_shortfall(const WeightBytes& needed, int64_t free_bytes, const std::string& device_name);

// What else frees memory on the GPU a Wan model's DiT runs on while it generates, for the
// out-of-memory messages (Model::memory_remedies): the text encoder's place when it sits there
// (`beside_dit.text_encoder` > 0; only the CPU when it is already freed after encoding, since a
// new prompt brings it back), the VAE's when it decodes there, the idle expert, and fp8 for a DiT
// not in fp8 already.
std::vector<std::string> gpu_memory_remedies(const WeightBytes& beside_dit, bool text_encoder_freed);

}  // namespace svgear
