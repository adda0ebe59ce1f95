#include "core/weights/checkpoint_mismatch.h"

#include "core/weights/safetensors_file.h"

namespace svgear {

std::string checkpoint_file_list(const std::vector<std::shared_ptr<SafetensorsFile>>& files) {
  std::string out;
  for (const auto& file : files) out += (out.empty() ? "" : ", ") + file->path().string();
  return out.empty() ? "(no files)" : out;
}

std::string tensor_problem_lines(const std::vector<std::string>& missing, const std::vector<std::string>& misfit) {
  constexpr size_t kListed = 20;
  std::string out;
  for (size_t i = 0; i < missing.size() && i < kListed; ++i) out += "\n  missing: " + missing[i];
  if (missing.size() > kListed) out += "\n  … and " + std::to_string(missing.size() - kListed) + " more missing";
  for (size_t i = 0; i < misfit.size() && i < kListed; ++i) out += "\n  " + misfit[i];
  if (misfit.size() > kListed) out += "\n  … and " + std::to_string(misfit.size() - kListed) + " more misfit";
  return out;
}

}  // namespace svgear
