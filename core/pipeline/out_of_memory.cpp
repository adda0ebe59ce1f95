#include "core/pipeline/out_of_memory.h"

#include <new>

#include "core/allocation_failure.h"
#include "core/pipeline/weight_memory.h"

namespace svgear {
namespace {

// 168820736 → "168,820,736" (a count, never negative).
std::string grouped(int64_t count) {
  std::string digits = std::to_string(count);
  for (int i = int(digits.size()) - 3; i > 0; i -= 3) digits.insert(size_t(i), ",");
  return digits;
}

// "lower the frames or the resolution, or A, or B".
std::string what_to_lower(const std::vector<std::string>& remedies) {
  std::string advice = "lower the frames or the resolution";
  for (const std::string& remedy : remedies) advice += ", or " + remedy;
  return advice;
}

}  // namespace

int64_t least_step_bytes(const LatentShape& latent, const WanConfig& dit, c10::ScalarType dtype, bool guidance) {
  const int64_t element = int64_t(c10::elementSize(dtype));
  const int64_t sample = int64_t(latent.channels) * latent.frames * latent.height * latent.width;
  const int64_t tokens = dit.token_grid(latent.frames, latent.height, latent.width).tokens();
  const int64_t per_token = int64_t(dit.dim) * 4 + int64_t(dit.ffn_dim) * element +
                            (guidance ? int64_t(dit.dim) * (4 + element) : 0);
  // The sample in float32, and its copy in dtype unless dtype is float32 (then .to() is the same tensor).
  return sample * (element == 4 ? 4 : 4 + element) + tokens * per_token;
}

int64_t host_step_bytes(const LatentShape& latent, const WanConfig& dit, c10::ScalarType dtype, bool guidance) {
  const int64_t element = int64_t(c10::elementSize(dtype));
  const int64_t tokens = dit.token_grid(latent.frames, latent.height, latent.width).tokens();
  const int64_t live_set = tokens * int64_t(dit.dim) * (4 * 4 + 8 * element);
  return least_step_bytes(latent, dit, dtype, guidance) + live_set;
}

int64_t step_bytes_to_check(const LatentShape& latent, const WanConfig& dit, c10::ScalarType dtype, bool guidance,
                            const c10::Device& device) {
  return device.is_cuda() ? least_step_bytes(latent, dit, dtype, guidance)
                          : host_step_bytes(latent, dit, dtype, guidance);
}

std::string step_memory_shortfall(int64_t needed, std::optional<int64_t> available, int64_t tokens,
                                  const c10::Device& device, const std::vector<std::string>& remedies) {
  if (!available || needed <= *available) return "";
  return "out of memory on " + device.str() + ": " + grouped(tokens) + " tokens per step need at least " +
         gib(needed) + " beside the weights, and " + gib(*available) +
         (device.is_cuda() ? " are free" : " are available") + ": " + what_to_lower(remedies);
}

std::optional<c10::Device> out_of_memory_on(const std::exception& error, const c10::Device& device) {
  const auto* torch_error = dynamic_cast<const c10::Error*>(&error);
  // Only a GPU fails these, also under work whose device is the CPU (a Wan VAE or text encoder
  // placed on a GPU beside a DiT on the CPU).
  if (torch_error && is_gpu_allocation_failure(*torch_error)) return device.is_cuda() ? device : c10::Device(c10::kCUDA);
  if (dynamic_cast<const std::bad_alloc*>(&error) || (torch_error && is_host_allocation_failure(*torch_error))) {
    return c10::Device(c10::kCPU);
  }
  return std::nullopt;
}

std::string out_of_memory_message(const c10::Device& device, const std::vector<std::string>& remedies) {
  return "out of memory on " + device.str() + ": " + what_to_lower(remedies) +
         (device.is_cuda() ? ", or use the CPU" : "");
}

}  // namespace svgear
