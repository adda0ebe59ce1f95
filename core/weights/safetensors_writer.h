#pragma once
// write_safetensors: writes tensors (any device; copied to CPU, made contiguous) in file order as
// given, atomically (temp file + rename). Supported dtypes are those of WeightDtype.

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

namespace svgear {

void write_safetensors(const std::filesystem::path& path,
                       const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace svgear
