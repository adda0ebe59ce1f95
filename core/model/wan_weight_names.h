#pragma once
// Diffusers ↔ original Wan parameter names. The model knows only the original names
// (`blocks.3.self_attn.q.weight`); Diffusers checkpoints (`blocks.3.attn1.to_q.weight`) are renamed
// once, at load. The map follows diffusers' scripts/convert_wan_to_diffusers.py.

#include <optional>
#include <string>
#include <string_view>

namespace svgear {

// True for names that exist only in the Diffusers layout (condition_embedder.*, attn1/attn2,
// scale_shift_table, proj_out, ffn.net.*): one such name marks a whole checkpoint as Diffusers.
bool wan_is_diffusers_name(std::string_view name);

// The original name of a Diffusers tensor name; names it does not know come back unchanged.
// Only for Diffusers checkpoints: norm2 and norm3 swap places, so original names would be mangled.
std::string wan_original_name(std::string_view diffusers_name);

// The inverse, for writing Diffusers-layout files (tests, export).
std::string wan_diffusers_name(std::string_view original_name);

// The wrapper prefix under which `stored` is `name` ("model.diffusion_model." in ComfyUI files, or
// none): what precedes `name` at a name-part boundary, so "vace_patch_embedding.weight" is not
// "patch_embedding.weight" under "vace_". nullopt when `stored` does not end with `name` so.
std::optional<std::string> wan_prefix_of(std::string_view stored, std::string_view name);

}  // namespace svgear
