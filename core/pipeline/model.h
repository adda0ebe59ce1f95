#pragma once
// Model: everything needed to generate with one model folder, loaded onto one device —
// the manifest, the DiT, the text encoder and the latent decoder. A folder with a model.json is a
// built-in or random model; a folder without one is read as Wan weights (core/pipeline/wan_folder.h).

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include "core/cancel_token.h"
#include "core/decoder/latent_decoder.h"
#include "core/model/wan_dit.h"
#include "core/pipeline/model_manifest.h"
#include "core/text/text_encoder.h"
#include "core/weights/load_progress.h"

namespace svgear {

// Where the parts of a Wan model live and how its DiT is stored, to fit a smaller GPU; built-in
// models ignore them.
struct ModelOptions {
  std::optional<c10::Device> text_encoder_device;  // umT5 (bf16); default: the model's device
  bool free_text_encoder = false;  // free umT5's weights once a generation's prompts are encoded
  std::optional<c10::Device> vae_device;  // default: the model's device
  // Wan2.2-A14B on a GPU: the expert not in use waits in host memory (as on the GPU) and the two swap at
  // the boundary step, so one expert's weights are on the GPU instead of two.
  bool idle_expert_on_cpu = false;
  // The DiT's block linears quantised to e4m3 as they load (WanWeights::load's quantize_fp8), where
  // the files hold them wider: about half the DiT's memory, for e4m3's rounding of its weights.
  bool dit_fp8 = false;
  // Polled between the model's parts and before each tensor of the DiT and the text encoder: a set
  // token makes load throw Cancelled (the studio closing during a multi-gigabyte load). The text
  // encoder keeps it for its reloads after free_text_encoder, so it must outlive the model.
  const CancelToken* cancel = nullptr;
  // A Wan model's load reports each part (VAE, text encoder, the DiT or each expert) as it starts,
  // every further percent of its bytes and its end, on the loading thread (LoadProgress).
  std::function<void(const LoadStep&)> on_progress;
};

struct Model {
  ModelManifest manifest;
  std::unique_ptr<WanDiT> dit;
  // Wan2.2-A14B's low-noise expert (manifest.low_noise_expert); `dit` is then the high-noise one.
  std::unique_ptr<WanDiT> low_noise_dit;
  // ModelOptions::idle_expert_on_cpu took effect: one of the two experts is in host memory.
  bool idle_expert_on_cpu = false;
  // Then whether that memory is page-locked (WanWeights::page_lock): else the system refused, and
  // each move runs at pageable memory's speed (~25 s instead of ~1 for a 14B expert on an H200).
  bool idle_expert_page_locked = false;
  // ModelOptions::dit_fp8 took effect (a Wan model): run records say so, a dense run is reused only alike.
  bool dit_fp8 = false;
  // Then the expert whose weights are all on `device`; null while a move is unfinished (one that
  // failed midway), which the next bring_to_device completes.
  WanDiT* expert_on_device = nullptr;
  std::unique_ptr<TextEncoder> text_encoder;
  std::unique_ptr<LatentDecoder> decoder;
  c10::Device device = c10::Device(c10::kCPU);
  c10::ScalarType dtype = c10::kFloat;  // of the DiT's matmuls: fp32 on CPU, bf16 on CUDA
  // Set when ModelOptions::free_text_encoder is: the Generator calls it after encoding the prompts
  // (the encoder reloads for a prompt it has not cached).
  std::function<void()> release_text_encoder;
  // What else would free memory on `device` while generating, beside a smaller request, for the
  // out-of-memory messages (gpu_memory_remedies); empty for built-in models and on the CPU.
  std::vector<std::string> memory_remedies;
  // Where a Wan model's text encoder and VAE run (ModelOptions), for run records and the studio: it
  // changes the video's rounding (the VAE decodes whole frames on a GPU, tiles on the CPU). Unset for
  // built-in models, whose parts all run on `device`.
  std::optional<c10::Device> text_encoder_device, vae_device;
  // Each file the weights came from, with its size and modification time (ns since the Unix epoch)
  // as the load found them: run records and the dense cache's key tell a folder retrained or
  // replaced in place from the weights in memory (its model.json and sizes stay, its times do
  // not). Files only: a Wan folder's tokenizer entry may be the folder itself, whose time changes
  // with anything written beside the model.
  nlohmann::json weight_files = nlohmann::json::array();

  // Loads <folder>/model.json and its weights, or the Wan weights of a folder without model.json.
  // Throws UserError / WeightsError with the file at fault; on CUDA, before loading anything, when
  // the weights do not fit in the free memory.
  static std::unique_ptr<Model> load(const std::filesystem::path& folder, c10::Device device,
                                     const ModelOptions& options = {});

  // With idle_expert_on_cpu, puts `expert` (dit or low_noise_dit) on `device` for its steps and the
  // other in host memory (WanDiT::swap_places); returns whether anything moved. Both experts are
  // always on `device` otherwise.
  bool bring_to_device(WanDiT& expert);
};

// Throws UserError when `folder` is not a folder (missing — with where a model by that name is, if
// one is in a search root —, a file, a model's model.json, a link loop): said before a built-in
// model's or a Wan folder's checks name a file missing from it.
void require_model_folder(const std::filesystem::path& folder);

// What Model::load reads first, without the weights: <folder>/model.json, or a Wan folder's
// manifest from its files' headers. For checking a request before a long load.
ModelManifest read_model_manifest(const std::filesystem::path& folder);

// What Model::load checks of the weight files, from their headers alone (no tensor is read, so it
// does not wait on a Wan folder's gigabytes): every DiT tensor's name, shape and type (each expert's); a Wan
// model's text encoder tensors, its tokenizer and its VAE; a built-in model's token table and text
// transformer (whose zeros in model.json's sizes it makes: a few MB, bounded by the files). Throws
// the UserError or WeightsError the load would. Returns what it checked, for `svgear info --model`.
std::vector<std::string> check_model_files(const ModelManifest& manifest);

// Whether Model::load reads `folder` as Wan weights (a folder without model.json, nor a built-in
// model's model.safetensors), the only models whose text encoder and VAE places ModelOptions set.
bool loads_as_wan_folder(const std::filesystem::path& folder);

// "auto" (CUDA when present, else CPU), "cpu", "cuda", "cuda:N". Throws UserError when the device
// does not exist in this build or machine.
c10::Device parse_device(const std::string& name);

}  // namespace svgear
