#pragma once
// Model: everything needed to generate with one model folder, loaded onto one device —
// the manifest, the DiT, the text encoder and the latent decoder.

#include <filesystem>
#include <memory>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include "core/decoder/latent_decoder.h"
#include "core/model/wan_dit.h"
#include "core/pipeline/model_manifest.h"
#include "core/text/text_encoder.h"

namespace svgear {

struct Model {
  ModelManifest manifest;
  std::unique_ptr<WanDiT> dit;
  std::unique_ptr<TextEncoder> text_encoder;
  std::unique_ptr<LatentDecoder> decoder;
  c10::Device device = c10::Device(c10::kCPU);
  c10::ScalarType dtype = c10::kFloat;  // of the DiT's matmuls: fp32 on CPU, bf16 on CUDA

  // Loads <folder>/model.json and its weights. Throws UserError / WeightsError with the file at fault.
  static std::unique_ptr<Model> load(const std::filesystem::path& folder, c10::Device device);
};

// "auto" (CUDA when present, else CPU), "cpu", "cuda", "cuda:N". Throws UserError when the device
// does not exist in this build or machine.
c10::Device parse_device(const std::string& name);

}  // namespace svgear
