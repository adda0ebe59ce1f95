#include "core/pipeline/model.h"

#include <ATen/ATen.h>

#include "svgear/build_config.h"
#include "core/decoder/pixel_decoder.h"
#include "core/text/vocab_text_encoder.h"
#include "core/user_error.h"
#include "core/weights/safetensors_file.h"

namespace svgear {
namespace {

constexpr const char* kTokenEmbedding = "text_encoder.token_embedding.weight";

}  // namespace

std::unique_ptr<Model> Model::load(const std::filesystem::path& folder, c10::Device device) {
  auto model = std::make_unique<Model>();
  model->manifest = ModelManifest::read(folder);
  const ModelManifest& m = model->manifest;

  std::vector<std::shared_ptr<SafetensorsFile>> files;
  for (const auto& name : m.weight_files) {
    files.push_back(SafetensorsFile::open(folder / name));
  }

  if (m.latent == LatentKind::Pixel) {
    if (m.dit.in_dim != 3 || m.dit.out_dim != 3) {
      throw UserError(folder.string() + "/model.json: a pixel-space model needs dit.in_dim = dit.out_dim = 3");
    }
    model->decoder = std::make_unique<PixelDecoder>();
  }

  at::Tensor embedding;
  for (const auto& f : files) {
    if (f->contains(kTokenEmbedding)) embedding = f->load(kTokenEmbedding);
  }
  if (!embedding.defined()) {
    throw UserError(folder.string() + ": no weight file holds '" + kTokenEmbedding +
                    "' (the text encoder's token table)");
  }
  model->text_encoder =
      std::make_unique<VocabTextEncoder>(m.vocabulary, embedding, m.max_tokens);
  if (model->text_encoder->text_dim() != m.dit.text_dim) {
    throw UserError(folder.string() + ": the token table has width " +
                    std::to_string(model->text_encoder->text_dim()) + " but dit.text_dim is " +
                    std::to_string(m.dit.text_dim));
  }

  model->dit = std::make_unique<WanDiT>(m.dit, WanWeights::load(m.dit, files));
  model->device = device;
  model->dtype = device.is_cuda() ? at::kBFloat16 : at::kFloat;
  model->dit->to(device, model->dtype);
  return model;
}

c10::Device parse_device(const std::string& name) {
  if (name == "auto") return at::hasCUDA() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  if (name == "cpu") return c10::Device(c10::kCPU);
  if (name.rfind("cuda", 0) == 0) {
    if (!at::hasCUDA()) {
      throw UserError("device '" + name + "' requested but " +
                      (SVGEAR_HAVE_CUDA ? "no CUDA device is visible"
                                        : "this build has no CUDA support (configure with the gpu preset)") +
                      ": use --device cpu");
    }
    c10::Device device(name);  // "cuda" or "cuda:N"
    if (device.has_index() && device.index() >= at::getNumGPUs()) {
      throw UserError("device '" + name + "' does not exist: this machine has " +
                      std::to_string(at::getNumGPUs()) + " CUDA device(s)");
    }
    return device.has_index() ? device : c10::Device(c10::kCUDA, 0);
  }
  throw UserError("unknown device '" + name + "' (choose auto, cpu, cuda or cuda:N)");
}

}  // namespace svgear
