#pragma once
// How a checkpoint that does not fit its model is reported (the Wan DiT, umT5 and the Wan VAE):
// which files were read, and the tensors missing or misfit, a bounded list, so a hostile config
// (100000 layers) gives a readable message instead of megabytes of names.

#include <memory>
#include <string>
#include <vector>

namespace svgear {

class SafetensorsFile;

// "a.safetensors, b.safetensors", or "(no files)".
std::string checkpoint_file_list(const std::vector<std::shared_ptr<SafetensorsFile>>& files);

// "\n  missing: NAME" per missing tensor and "\n  WHAT" per misfit one, the first 20 of each, then
// "\n  … and N more missing" (or "… more <misfit_word>": "misfit", or what the lines are).
std::string tensor_problem_lines(const std::vector<std::string>& missing, const std::vector<std::string>& misfit,
                                 const std::string& misfit_word = "misfit");

// The first tensor of ComfyUI's per-layer quantization (a "<layer>.weight_scale", "weight_scale_2",
// "input_scale" or "comfy_quant" beside an fp8 or fp4 weight), or "" when there is none. Such a
// weight read as it is stored would be off by its scale, so the loaders refuse it.
std::string layer_quantization_tensor(const std::vector<std::shared_ptr<SafetensorsFile>>& files);

}  // namespace svgear
