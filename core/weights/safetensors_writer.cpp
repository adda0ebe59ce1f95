#include "core/weights/safetensors_writer.h"

#include <ATen/ATen.h>

#include <nlohmann/json.hpp>
#include <set>

#include "core/io/atomic_file.h"
#include "core/weights/safetensors_header.h"

namespace svgear {
namespace {

WeightDtype to_weight_dtype(at::ScalarType type) {
  switch (type) {
    case at::kFloat: return WeightDtype::F32;
    case at::kHalf: return WeightDtype::F16;
    case at::kBFloat16: return WeightDtype::BF16;
    case at::kFloat8_e4m3fn: return WeightDtype::F8_E4M3;
    case at::kLong: return WeightDtype::I64;
    case at::kInt: return WeightDtype::I32;
    case at::kByte: return WeightDtype::U8;
    case at::kBool: return WeightDtype::Bool;
    default: return WeightDtype::Unset;
  }
}

[[noreturn]] void fail(const std::filesystem::path& path, std::string_view tensor,
                       std::string_view what) {
  throw WeightsError("cannot write '" + path.string() + "': tensor '" + std::string(tensor) + "' " +
                     std::string(what));
}

}  // namespace

void write_safetensors(const std::filesystem::path& path,
                       const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  // Everything is validated before the file is created, so a rejected call leaves no trace.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string_view> names;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__") fail(path, name, "has a name reserved for the metadata");
    if (!names.insert(name).second) fail(path, name, "appears twice (tensor names must be unique)");
    if (!tensor.defined()) fail(path, name, "is undefined");
    if (tensor.layout() != at::kStrided) fail(path, name, "is not a dense tensor");
    WeightDtype dtype = to_weight_dtype(tensor.scalar_type());
    if (dtype == WeightDtype::Unset) {
      fail(path, name,
           std::string("has dtype ") + c10::toString(tensor.scalar_type()) +
               ", which safetensors files here cannot hold (convert it to float32, float16, "
               "bfloat16, float8_e4m3fn, int64, int32, uint8 or bool)");
    }
    uint64_t bytes = static_cast<uint64_t>(tensor.numel()) * weight_dtype_bytes(dtype);
    header[name] = {{"dtype", weight_dtype_name(dtype)},
                    {"shape", tensor.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }

  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::ordered_json::type_error&) {
    throw WeightsError("cannot write '" + path.string() +
                       "': tensor names and metadata must be valid UTF-8");
  }
  // Like the reference implementation: pad with spaces so the data section starts 8-byte aligned.
  text.append((8 - text.size() % 8) % 8, ' ');

  AtomicFile file(path);
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(text.size() >> (8 * i));
  file.write(length, sizeof(length));
  file.write(text);
  for (const auto& [name, tensor] : tensors) {
    at::Tensor cpu = tensor.detach().to(at::kCPU).contiguous();
    file.write(cpu.data_ptr(), cpu.nbytes());
  }
  file.commit();
}

}  // namespace svgear
