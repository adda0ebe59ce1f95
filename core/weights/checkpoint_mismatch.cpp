#include "core/weights/checkpoint_mismatch.h"

#include "core/weights/safetensors_file.h"

namespace svgear {

std::string checkpoint_file_list(const std::vector<std::shared_ptr<SafetensorsFile>>& files) {
  std::string out;
  for (const auto& file : files) out += (out.empty() ? "" : ", ") + file->path().string();
  return out.empty() ? "(no files)" : out;
}

std::string tensor_problem_lines(const std::vector<std::string>& missing, const std::vector<std::string>& misfit,
                                 const std::string& misfit_word) {
  constexpr size_t kListed = 20;
  std::string out;
  for (size_t i = 0; i < missing.size() && i < kListed; ++i) out += "\n  missing: " + missing[i];
  if (missing.size() > kListed) out += "\n  … and " + std::to_string(missing.size() - kListed) + " more missing";
  for (size_t i = 0; i < misfit.size() && i < kListed; ++i) out += "\n  " + misfit[i];
  if (misfit.size() > kListed) out += "\n  … and " + std::to_string(misfit.size() - kListed) + " more " + misfit_word;
  return out;
}

std::string layer_quantization_tensor(const std::vector<std::shared_ptr<SafetensorsFile>>& files) {
  for (const auto& file : files) {
    for (const TensorEntry& entry : file->tensors()) {
      for (const char* suffix : {".weight_scale", ".weight_scale_2", ".input_scale", ".comfy_quant"}) {
        if (entry.name.ends_with(suffix)) return entry.name;
      }
    }
  }
  return "";
}

}  // namespace svgear
