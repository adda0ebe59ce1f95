#pragma once
// Hugging Face ↔ original Wan names of the umT5 encoder. The encoder knows only Wan's names
// (`blocks.3.attn.q.weight`); Hugging Face / ComfyUI files
// (`encoder.block.3.layer.0.SelfAttention.q.weight`, umt5_xxl_fp16.safetensors, Diffusers
// text_encoder/) are renamed once, at load. The map follows upstream's T5 modules: layer.0 is norm1
// + attention, layer.1 is norm2 + the gated FFN, whose GELU branch wi_0 is Wan's ffn.gate.0 and
// whose linear branch wi_1 is ffn.fc1.

#include <string>
#include <string_view>

namespace svgear {

// True for names of the Hugging Face layout (shared.weight, encoder.*): one such name marks a file.
bool umt5_is_hf_name(std::string_view name);

// The original name of a Hugging Face encoder tensor; "" for tensors the encoder does not use
// (decoder.*, lm_head.*). A ".scale_weight" suffix (scaled fp8) is kept.
std::string umt5_original_name(std::string_view hf_name);

// The inverse, for writing Hugging Face-layout files (tests, export).
std::string umt5_hf_name(std::string_view original_name);

}  // namespace svgear
