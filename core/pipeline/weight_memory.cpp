#include "core/pipeline/weight_memory.h"

#include <cstdio>

#include <ATen/ATen.h>

#include "core/decoder/wan_vae_weights.h"
#include "core/model/wan_weights.h"
#include "core/weights/safetensors_file.h"

namespace svgear {
namespace {

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

}  // namespace

std::string gib(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f GiB", double(bytes) / double(int64_t(1) << 30));
  return text;
}

int64_t wan_dit_bytes(const WanConfig& config, c10::ScalarType dtype, const WanWeights::Fp8Scales& fp8) {
  int64_t bytes = 0;
  WanWeights::meta(config, fp8).for_each_tensor(
      [&](const std::string&, const at::Tensor& tensor, WeightPrecision precision) {
        bytes += tensor.numel() * int64_t(c10::elementSize(held_dtype(precision, dtype)));
      });
  return bytes;
}

int64_t umt5_bytes(const std::vector<std::filesystem::path>& files, c10::ScalarType dtype) {
  int64_t elements = 0;
  for (const auto& path : files) {
    const auto opened = SafetensorsFile::open(path);
    for (const TensorEntry& entry : opened->tensors()) {
      // Diffusers shards may add encoder.embed_tokens, a tied copy of shared.weight loaded once.
      if (!entry.name.ends_with("scale_weight") && !entry.name.ends_with("embed_tokens.weight")) {
        elements += numel(entry.shape);
      }
    }
  }
  return elements * int64_t(c10::elementSize(dtype));
}

int64_t wan_vae_decoder_bytes(const std::filesystem::path& file, c10::ScalarType dtype) {
  // The loader's own layout for the file's config, so that the encoder half (whose Diffusers
  // resnets also have conv2 tensors) and quant_conv are left out in either naming.
  int64_t elements = 0;
  WanVaeWeights::meta(WanVaeWeights::read_config(file)).for_each_tensor(
      [&](const std::string&, const at::Tensor& tensor) { elements += tensor.numel(); });
  return elements * int64_t(c10::elementSize(dtype));
}

std::string memory_shortfall(const WeightBytes& needed, int64_t free_bytes, const std::string& device_name) {
  if (needed.total() <= free_bytes) return "";
  const bool host = device_name == "cpu";
  std::string parts;
  const auto add = [&](int64_t bytes, const char* what) {
    if (bytes > 0) parts += (parts.empty() ? "" : ", ") + std::string(what) + " " + gib(bytes);
  };
  add(needed.dit + needed.second_expert, "diffusion model");
  add(needed.text_encoder, "text encoder");
  add(needed.vae, "VAE");
  add(needed.idle_expert, "idle expert");
  std::string message = "not enough memory on " + std::string(host ? "the CPU" : device_name) +
                        ": the weights alone need about " + gib(needed.total()) + " (" + parts + ") but " +
                        gib(free_bytes) + (host ? " are available." : " are free.");
  const bool fp8_would_help = (needed.dit > 0 || needed.idle_expert > 0) && !needed.dit_in_fp8;
  if (host) {
    // On the host the kernel's OOM killer would end the load without a word, minutes in.
    if (needed.dit > 0) message += " Run the diffusion model on a GPU (--device cuda).";
    if (fp8_would_help) message += " Diffusion model in fp8 (--dit-fp8) makes its weights smaller.";
    if (needed.idle_expert > 0) {
      message += " Keep both experts on the GPU where it has room for them (Idle expert on the CPU, "
                 "--idle-expert-on-cpu, off).";
    }
    return message + " Otherwise close other programs or pick a smaller model.";
  }
  if (fp8_would_help) {
    message += " Diffusion model in fp8 (--dit-fp8) about halves its weights, for fp8's rounding of them.";
  }
  if (needed.text_encoder > 0) message += " Text encoder on the CPU (--text-encoder-device cpu) keeps it off the GPU.";
  if (needed.vae > 0) message += " VAE on the CPU (--vae-device cpu) decodes there.";
  if (needed.second_expert > 0) {
    message += " Idle expert on the CPU (--idle-expert-on-cpu) keeps one of the two experts in host memory.";
  }
  message += " Otherwise close other programs using the GPU or pick a smaller model.";
  return message;
}

std::vector<std::string> gpu_memory_remedies(const WeightBytes& beside_dit, bool text_encoder_freed) {
  std::vector<std::string> remedies;
  if (beside_dit.text_encoder > 0) {
    // Freed after encoding, umT5 still comes back beside the DiT for a new prompt.
    remedies.push_back("keep the text encoder's " + gib(beside_dit.text_encoder) +
                       " off the GPU (on the CPU: --text-encoder-device cpu" +
                       (text_encoder_freed ? ")" : "; or freed after encoding: --free-text-encoder)"));
  }
  if (beside_dit.vae > 0) remedies.push_back("put the VAE on the CPU (--vae-device cpu)");
  if (beside_dit.second_expert > 0) {
    remedies.push_back("keep the expert not in use in host memory (Idle expert on the CPU; --idle-expert-on-cpu)");
  }
  if (!beside_dit.dit_in_fp8) {
    remedies.push_back("quantise the diffusion model to fp8 (Diffusion model in fp8; --dit-fp8)");
  }
  return remedies;
}

}  // namespace svgear
