#include "core/pipeline/model.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <new>

#include <ATen/ATen.h>

#include "svgear/build_config.h"
#include "core/allocation_failure.h"
#include "core/decoder/pixel_decoder.h"
#include "core/decoder/wan_vae_decoder.h"
#include "core/decoder/wan_vae_weights.h"
#include "core/io/file_system_trouble.h"
#include "core/pipeline/device_info.h"
#include "core/pipeline/out_of_memory.h"
#include "core/pipeline/wan_folder.h"
#include "core/pipeline/weight_memory.h"
#include "core/text/shapes_prompt_encoder.h"
#include "core/text/umt5_weights.h"
#include "core/text/vocab_text_encoder.h"
#include "core/text/wan_text_encoder.h"
#include "core/user_error.h"
#include "core/weights/safetensors_file.h"

namespace svgear {
namespace {

constexpr const char* kTokenEmbedding = "text_encoder.token_embedding.weight";
// The longest prompt a vocabulary model's transformer takes (its position table has a row each).
constexpr int kMaxPromptTokens = 4096;
// Upstream runs umT5 in bfloat16 (t5_dtype); it also halves the 11 GB of umT5-xxl on the CPU.
constexpr c10::ScalarType kTextEncoderDtype = at::kBFloat16;

void check_cancel(const ModelOptions& options) {
  if (options.cancel) options.cancel->throw_if_cancelled();
}

std::vector<std::shared_ptr<SafetensorsFile>> open_dit(const ModelManifest& m,
                                                       const std::vector<std::string>& weight_files) {
  std::vector<std::shared_ptr<SafetensorsFile>> files;
  for (const auto& name : weight_files) files.push_back(SafetensorsFile::open(m.folder / name));
  return files;
}

// A DiT straight to the device in its dtype, tensor by tensor (no float32 copy of the model on the
// host); with `quantize_fp8`, Diffusion model in fp8 (a Wan model's option only).
std::unique_ptr<WanDiT> load_dit(const ModelManifest& m, const std::vector<std::shared_ptr<SafetensorsFile>>& files,
                                 c10::Device device, c10::ScalarType dtype, const CancelToken* cancel,
                                 bool quantize_fp8, LoadProgress* progress = nullptr) {
  return std::make_unique<WanDiT>(m.dit,
                                  WanWeights::load(m.dit, files, device, dtype, cancel, quantize_fp8, progress));
}

int64_t tensor_bytes(const std::vector<std::shared_ptr<SafetensorsFile>>& files) {
  int64_t bytes = 0;
  for (const auto& file : files) bytes += file->tensor_bytes();
  return bytes;
}

// A Wan model's DiT files, opened once for the checks and the load: a pair's low-noise expert second.
struct DitFiles {
  std::vector<std::shared_ptr<SafetensorsFile>> dit, low_noise_dit;
  explicit DitFiles(const ModelManifest& m) : dit(open_dit(m, m.weight_files)) {
    if (m.low_noise_expert) low_noise_dit = open_dit(m, m.low_noise_expert->weight_files);
  }
};

// The weights each DiT keeps in e4m3 (WanWeights::fp8_layout), from the headers: a pair's
// low-noise expert second.
struct DitFp8 {
  WanWeights::Fp8Scales dit, low_noise_dit;
  bool operator==(const DitFp8&) const = default;

  DitFp8(const ModelManifest& m, const DitFiles& files, bool quantize_fp8)
      : dit(WanWeights::fp8_layout(m.dit, files.dit, quantize_fp8)) {
    if (m.low_noise_expert) low_noise_dit = WanWeights::fp8_layout(m.dit, files.low_noise_dit, quantize_fp8);
  }
  // Every block linear of each DiT: Diffusion model in fp8 has nothing left to quantise.
  bool whole(const ModelManifest& m) const {
    const auto covers = [&](const WanWeights::Fp8Scales& layout) {
      for (const auto& entry : WanWeights::every_block_linear(m.dit)) {
        if (!layout.contains(entry.first)) return false;
      }
      return true;
    };
    return covers(dit) && (!m.low_noise_expert || covers(low_noise_dit));
  }
};

// "cuda" without an index is cuda:0, as parse_device gives it: device guards reject index −1.
c10::Device indexed_device(c10::Device d) { return d.is_cuda() && !d.has_index() ? c10::Device(c10::kCUDA, 0) : d; }

// Where a Wan model's parts load: the DiT's device, the text encoder's and the VAE's.
struct PartDevices {
  c10::Device dit, text_encoder, vae;

  // Each CUDA device among them, once.
  std::vector<c10::Device> gpus() const {
    std::vector<c10::Device> out;
    for (const c10::Device& d : {dit, text_encoder, vae}) {
      if (d.is_cuda() && std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
    }
    return out;
  }
};

PartDevices part_devices(c10::Device device, const ModelOptions& options) {
  return {indexed_device(device), indexed_device(options.text_encoder_device.value_or(device)),
          indexed_device(options.vae_device.value_or(device))};
}

// The weights a Wan model puts on `gpu`, from the file headers: the DiT's where it runs there (a
// pair's second expert unless it idles in host memory), the text encoder's and the VAE's where
// they load there.
WeightBytes weights_on_gpu(const ModelManifest& m, const DitFp8& fp8, c10::Device gpu, const PartDevices& parts,
                           c10::ScalarType dit_dtype, bool idle_expert_on_cpu, c10::ScalarType vae_dtype) {
  std::vector<std::filesystem::path> text_files;
  for (const auto& name : m.text_encoder_files) text_files.push_back(m.folder / name);
  WeightBytes on_gpu;
  on_gpu.dit_in_fp8 = fp8.whole(m);
  if (parts.dit == gpu) {
    on_gpu.dit = wan_dit_bytes(m.dit, dit_dtype, fp8.dit);
    if (m.low_noise_expert && !idle_expert_on_cpu) {
      on_gpu.second_expert = wan_dit_bytes(m.dit, dit_dtype, fp8.low_noise_dit);
    }
  }
  if (parts.text_encoder == gpu) on_gpu.text_encoder = umt5_bytes(text_files, kTextEncoderDtype);
  if (parts.vae == gpu) on_gpu.vae = wan_vae_decoder_bytes(m.folder / m.vae_file, vae_dtype);
  return on_gpu;
}

std::unique_ptr<Model> load_wan(const std::filesystem::path& folder, c10::Device device,
                                const ModelOptions& options) {
  auto model = std::make_unique<Model>();
  model->manifest = read_wan_manifest(folder);
  const ModelManifest& m = model->manifest;
  model->device = device;
  model->dtype = device.is_cuda() ? at::kBFloat16 : at::kFloat;
  const PartDevices parts = part_devices(device, options);
  const c10::Device text_device = parts.text_encoder;
  const c10::Device vae_device = parts.vae;
  model->text_encoder_device = text_device;
  model->vae_device = vae_device;
  const c10::ScalarType vae_dtype = at::kFloat;  // upstream's: WanVAE decodes under a float32 autocast

  // The small parts first, so a wrong tokenizer or VAE fails before gigabytes are read.
  std::vector<std::filesystem::path> text_encoder_files;
  for (const auto& name : m.text_encoder_files) text_encoder_files.push_back(folder / name);
  Umt5Tokenizer tokenizer =
      Umt5Tokenizer::load((folder / m.tokenizer).lexically_normal(), m.dit.text_len, text_encoder_files);
  model->idle_expert_on_cpu = options.idle_expert_on_cpu && m.low_noise_expert && device.is_cuda();
  const DitFiles dit_files(m);
  // fp8_layout leaves out a weight whose scale no scaled fp8 file stores: such a scale is named
  // here, not taken below for two experts stored differently.
  WanWeights::refuse_misfit_scales(m.dit, dit_files.dit);
  if (m.low_noise_expert) WanWeights::refuse_misfit_scales(m.dit, dit_files.low_noise_dit);
  // Every tensor's name, shape and type, before the text encoder's gigabytes are read.
  WanWeights::check_files(m.dit, dit_files.dit, options.dit_fp8);
  if (m.low_noise_expert) WanWeights::check_files(m.dit, dit_files.low_noise_dit, options.dit_fp8);
  const DitFp8 stored(m, dit_files, false);
  const DitFp8 fp8 = options.dit_fp8 ? DitFp8(m, dit_files, true) : stored;
  model->dit_fp8 = fp8 != stored;  // something was left to quantise
  if (model->idle_expert_on_cpu && fp8.dit != fp8.low_noise_dit) {
    // The swap trades the experts' tensors one for one.
    std::string ways = "take both from one download (both *_fp16, both *_fp8_scaled or both *_fp8_e4m3fn)";
    if (!options.dit_fp8) {
      const DitFp8 quantised(m, dit_files, true);
      if (quantised.dit == quantised.low_noise_dit) ways += ", turn on Diffusion model in fp8 (--dit-fp8)";
    }
    throw UserError(m.name + ": the two experts are not stored alike (" +
                    (options.dit_fp8 ? "in fp8 with a scale per row in one and per weight in the other"
                                     : "one in fp8, plain or scaled, the other not, or scaled differently") +
                    "), so they cannot trade places: " + ways + ", or turn off Idle expert on the CPU "
                    "(--idle-expert-on-cpu)");
  }
  // Weights that do not fit in a GPU's free memory are refused before anything is loaded: on each
  // GPU a part loads onto (a text encoder or VAE may sit on another than the DiT's).
  for (const c10::Device& gpu : parts.gpus()) {
    const WeightBytes on_gpu =
        weights_on_gpu(m, fp8, gpu, parts, model->dtype, model->idle_expert_on_cpu, vae_dtype);
    if (const std::optional<int64_t> free = free_device_memory(gpu)) {
      const std::string shortfall = memory_shortfall(on_gpu, *free, gpu.str());
      if (!shortfall.empty()) throw UserError(m.name + ": " + shortfall);
    }
    if (gpu == device) model->memory_remedies = gpu_memory_remedies(on_gpu, options.free_text_encoder);
  }
  // The parts held by the host (a CPU run's DiT in float32 is 4× its bf16 size on a GPU): past the
  // available memory, the kernel's OOM killer would end the load minutes in without a word.
  WeightBytes on_host;
  on_host.dit_in_fp8 = fp8.whole(m);
  if (device.is_cpu()) {
    on_host.dit = wan_dit_bytes(m.dit, model->dtype, fp8.dit);
    if (m.low_noise_expert) on_host.second_expert = wan_dit_bytes(m.dit, model->dtype, fp8.low_noise_dit);
  }
  if (model->idle_expert_on_cpu) on_host.idle_expert = wan_dit_bytes(m.dit, model->dtype, fp8.dit);  // both alike
  if (text_device.is_cpu()) on_host.text_encoder = umt5_bytes(text_encoder_files, kTextEncoderDtype);
  if (vae_device.is_cpu()) on_host.vae = wan_vae_decoder_bytes(folder / m.vae_file, vae_dtype);
  if (const std::optional<int64_t> available = available_host_memory(); available && on_host.total() > 0) {
    const std::string shortfall = memory_shortfall(on_host, *available, "cpu");
    if (!shortfall.empty()) throw UserError(m.name + ": " + shortfall);
  }
  std::optional<LoadProgress> progress;
  if (options.on_progress) progress.emplace(options.on_progress);
  // Each part between its start and end, the bytes counted where the loader reads many tensors.
  const auto load_part = [&](const std::string& part, int64_t bytes, const auto& load) {
    if (progress) progress->start_part(part, bytes);
    load(progress ? &*progress : nullptr);
    if (progress) progress->end_part();
  };
  std::error_code ec;  // the VAE is reported whole: its file's size is its bytes
  const auto vae_bytes = std::filesystem::file_size(folder / m.vae_file, ec);
  load_part("VAE", ec ? 0 : int64_t(vae_bytes), [&](LoadProgress*) {
    model->decoder = WanVaeDecoder::open(folder / m.vae_file, vae_device, vae_dtype);  // paired in the manifest
  });
  check_cancel(options);

  std::vector<std::filesystem::path> text_files;
  for (const auto& name : m.text_encoder_files) text_files.push_back(folder / name);
  WanTextEncoderOptions text_options;
  text_options.device = text_device;
  text_options.dtype = kTextEncoderDtype;
  text_options.cancel = options.cancel;
  std::unique_ptr<WanTextEncoder> encoder;
  load_part("text encoder", tensor_bytes(open_umt5_files(text_files)), [&](LoadProgress* counted) {
    encoder = std::make_unique<WanTextEncoder>(text_files, std::move(tokenizer), text_options, counted);
  });
  if (options.free_text_encoder) {
    WanTextEncoder* raw = encoder.get();
    model->release_text_encoder = [raw] { raw->release(); };
  }
  model->text_encoder = std::move(encoder);
  check_cancel(options);

  load_part(m.low_noise_expert ? "high-noise expert" : "diffusion model", tensor_bytes(dit_files.dit),
            [&](LoadProgress* counted) {
              model->dit = load_dit(m, dit_files.dit, device, model->dtype, options.cancel, options.dit_fp8, counted);
            });
  if (m.low_noise_expert) {
    check_cancel(options);
    // The low-noise expert's steps come last: with idle_expert_on_cpu it waits in host memory.
    const c10::Device low_device = model->idle_expert_on_cpu ? c10::Device(c10::kCPU) : device;
    load_part("low-noise expert", tensor_bytes(dit_files.low_noise_dit), [&](LoadProgress* counted) {
      model->low_noise_dit = load_dit(m, dit_files.low_noise_dit, low_device, model->dtype, options.cancel,
                                      options.dit_fp8, counted);
    });
    if (model->idle_expert_on_cpu) {
      model->idle_expert_page_locked = model->low_noise_dit->page_lock(device);
      model->expert_on_device = model->dit.get();
    }
  }
  return model;
}

// An `svgear train` run folder (checkpoint/, model/, loss.tsv) or its checkpoint given as the model:
// the checkpoint's shard holds a DiT's tensors, which had passed for a Wan folder's and asked for a
// umT5 text encoder. Says where the run's model is.
void refuse_training_run_folder(const std::filesystem::path& given) {
  std::error_code ec;
  if (std::filesystem::exists(given / "model.json", ec)) return;
  // "checkpoint/", "checkpoint/." and "." inside it: the folder by its own name, for its parent's.
  std::filesystem::path folder = std::filesystem::absolute(given, ec).lexically_normal();
  if (!folder.has_filename()) folder = folder.parent_path();
  const auto exported = [&ec](const std::filesystem::path& run) {
    return std::filesystem::exists(run / "model" / "model.json", ec)
               ? "its model is '" + (run / "model").string() + "': give that folder"
               : "its model will be '" + (run / "model").string() + "', which the run exports at its end (`svgear "
                 "train --out " + run.string() + "` resumes it)";
  };
  if (std::filesystem::exists(folder / "state.json", ec)) {
    throw UserError("'" + given.string() + "' is an `svgear train` checkpoint, not a model: " +
                    exported(folder.parent_path()));
  }
  if (std::filesystem::exists(folder / "checkpoint" / "state.json", ec) ||
      (std::filesystem::exists(folder / "loss.tsv", ec) && std::filesystem::is_directory(folder / "model", ec))) {
    throw UserError("'" + given.string() + "' is an `svgear train` run folder, not a model: " + exported(folder));
  }
}

}  // namespace

void require_model_folder(const std::filesystem::path& folder) {
  std::error_code ec;
  const std::filesystem::file_type type = std::filesystem::status(folder, ec).type();
  if (type == std::filesystem::file_type::not_found) {
    // A model's name as `svgear info` lists it ("shapes-s") is a folder in a search root.
    std::string where;
    if (!folder.has_parent_path() && folder.has_filename()) {
      for (const std::filesystem::path& root : model_search_roots()) {
        if (std::filesystem::is_directory(root / folder, ec)) {
          where = " here; the model '" + folder.string() + "' is at '" + (root / folder).string() + "': give that path";
          break;
        }
      }
    }
    throw UserError("no model at '" + folder.string() + "': there is no such folder" + where);
  }
  // A link loop or a folder above it that may not be searched: said so, not "model.json is missing".
  if (ec) throw UserError("cannot open the model folder '" + folder.string() + "': " + ec.message());
  if (type == std::filesystem::file_type::directory) {
    refuse_training_run_folder(folder);
    return;
  }
  if (folder.filename() == "model.json") {
    throw UserError("'" + folder.string() + "' is a model's model.json: give its folder, '" +
                    (folder.has_parent_path() ? folder.parent_path().string() : std::string(".")) + "'");
  }
  throw UserError("'" + folder.string() + "' is a file, not a model folder: give the folder that holds model.json "
                  "and its .safetensors, or a Wan model's files");
}

ModelManifest read_model_manifest(const std::filesystem::path& folder) {
  require_model_folder(folder);
  try {
    return loads_as_wan_folder(folder) ? read_wan_manifest(folder) : ModelManifest::read(folder);
  } catch (const std::filesystem::filesystem_error& e) {
    throw file_system_trouble("could not read the model in '" + folder.string() + "'", e);
  }
}

bool loads_as_wan_folder(const std::filesystem::path& folder) {
  std::error_code ec;  // unreadable: not a Wan folder here; loading it says why
  // A built-in model's weights without their model.json are a built-in model missing it, not Wan files.
  return std::filesystem::is_directory(folder, ec) && !std::filesystem::exists(folder / "model.json", ec) && !ec &&
         !std::filesystem::exists(folder / "model.safetensors", ec);
}

namespace {

// The text transformer model.json gives a vocabulary model, in its shapes (zeros: a load replaces
// every tensor), or none for text_layers 0. model.json's sizes are claims: a transformer its weight
// files are too small to hold (a byte a weight at the least) is refused before its tensors are made;
// 64 layers of width 16384 beside a 64 KB token table would otherwise take ~830 GB first.
PromptTransformerWeights text_transformer_shapes(const ModelManifest& m,
                                                 const std::vector<std::shared_ptr<SafetensorsFile>>& files) {
  if (m.text_layers == 0) return {};
  const std::string folder = m.folder.string();
  if (m.max_tokens > kMaxPromptTokens) {
    throw UserError(folder + ": model.json's text_encoder.max_tokens is " + std::to_string(m.max_tokens) +
                    "; a vocabulary model reads at most " + std::to_string(kMaxPromptTokens));
  }
  const double width = double(m.dit.text_dim);
  const double weights = double(m.text_layers) * (12.0 * width * width + 13.0 * width) + double(m.max_tokens) * width;
  uintmax_t file_bytes = 0;
  for (const auto& f : files) {
    std::error_code ec;
    file_bytes += std::filesystem::file_size(f->path(), ec);
  }
  if (weights > double(file_bytes)) {
    throw UserError(folder + ": model.json gives the text encoder " + std::to_string(m.text_layers) +
                    " transformer layers of width " + std::to_string(m.dit.text_dim) + ", " +
                    std::to_string(int64_t(weights)) + " weights, but its weight files hold " +
                    std::to_string(file_bytes) + " bytes in all");
  }
  return new_prompt_transformer(m.text_layers, m.text_heads, int(m.dit.text_dim), m.max_tokens, 0, 0.0);
}

// The weight file holding the text transformer's `name`, checked from its header: floating-point
// values (whole numbers would be read as weights of their values) of `tensor`'s shape.
SafetensorsFile& text_transformer_file(const ModelManifest& m, const std::vector<std::shared_ptr<SafetensorsFile>>& files,
                                       const std::string& name, const at::Tensor& tensor) {
  const std::string folder = m.folder.string();
  for (const auto& f : files) {
    const TensorEntry* entry = f->find(name);
    if (!entry) continue;
    if (!weight_dtype_is_float(entry->dtype)) {
      throw UserError(folder + ": '" + name + "' holds " + weight_dtype_name(entry->dtype) +
                      " values, not floating-point weights: the file is damaged or not this model's");
    }
    if (c10::IntArrayRef(entry->shape) != tensor.sizes()) {
      throw UserError(folder + ": '" + name + "' has shape " + c10::str(c10::IntArrayRef(entry->shape)) +
                      ", expected " + c10::str(tensor.sizes()));
    }
    return *f;
  }
  throw UserError(folder + ": model.json gives the text encoder " + std::to_string(m.text_layers) +
                  " transformer layers, but no weight file holds '" + name + "'");
}

// "3 files, 12.3 MB": the files of a part, for check_model_files' list.
std::string files_and_bytes(const std::vector<std::filesystem::path>& paths) {
  uintmax_t bytes = 0;
  for (const auto& path : paths) {
    std::error_code ec;
    const uintmax_t size = std::filesystem::file_size(path, ec);
    if (!ec) bytes += size;
  }
  char size[32];
  std::snprintf(size, sizeof size, "%.1f MB", double(bytes) / 1e6);
  return (paths.size() == 1 ? paths.front().filename().string() : std::to_string(paths.size()) + " files") + ", " +
         size;
}

// check_model_files' work.
std::vector<std::string> checked_model_files(const ModelManifest& m) {
  std::vector<std::string> checked;
  const auto paths = [&](const std::vector<std::string>& names) {
    std::vector<std::filesystem::path> out;
    for (const std::string& name : names) out.push_back(m.folder / name);
    return out;
  };
  const auto dit_tensors = [&](const std::vector<std::shared_ptr<SafetensorsFile>>& files) {
    WanWeights::check_files(m.dit, files);
    int count = 0;
    WanWeights::meta(m.dit, WanWeights::fp8_layout(m.dit, files, false)).for_each_tensor(
        [&](const std::string&, const at::Tensor&, WeightPrecision) { ++count; });
    return std::to_string(count) + " tensors";
  };
  const DitFiles dit_files(m);
  checked.push_back("the diffusion model's " + dit_tensors(dit_files.dit) + " (" +
                    files_and_bytes(paths(m.weight_files)) + ")");
  if (m.low_noise_expert) {
    checked.push_back("the low-noise expert's " + dit_tensors(dit_files.low_noise_dit) + " (" +
                      files_and_bytes(paths(m.low_noise_expert->weight_files)) + ")");
  }
  if (m.text_encoder == TextEncoderKind::Umt5) {
    const std::vector<std::filesystem::path> text_files = paths(m.text_encoder_files);
    const Umt5Tokenizer tokenizer =
        Umt5Tokenizer::load((m.folder / m.tokenizer).lexically_normal(), m.dit.text_len, text_files);
    const auto files = open_umt5_files(text_files);
    Umt5Weights::check_files(files);
    WanTextEncoder::check_tokenizer_fits(tokenizer, Umt5Weights::read_config(files));
    checked.push_back("the umT5 text encoder (" + files_and_bytes(text_files) + ") and its tokenizer");
  } else {
    bool found = false;
    for (const auto& file : dit_files.dit) {
      const TensorEntry* table = file->find(kTokenEmbedding);
      if (!table) continue;
      found = true;
      const std::vector<int64_t> expected = {int64_t(m.vocabulary.size()), m.dit.text_dim};
      const std::string where = m.folder.string() + ": the token table '" + kTokenEmbedding + "'";
      if (!weight_dtype_is_float(table->dtype)) {
        throw UserError(where + " holds " + weight_dtype_name(table->dtype) + " values, not floating-point weights");
      }
      if (table->shape != expected) {
        throw UserError(where + " has shape " + c10::str(c10::IntArrayRef(table->shape)) + ", not " +
                        c10::str(c10::IntArrayRef(expected)) + " (model.json's " + std::to_string(expected[0]) +
                        " vocabulary words × dit.text_dim " + std::to_string(expected[1]) + ")");
      }
    }
    if (!found) {
      throw UserError(m.folder.string() + ": no weight file holds '" + kTokenEmbedding +
                      "' (the text encoder's token table)");
    }
    PromptTransformerWeights transformer = text_transformer_shapes(m, dit_files.dit);
    int transformer_tensors = 0;
    transformer.for_each([&](const std::string& name, at::Tensor& tensor) {
      (void)text_transformer_file(m, dit_files.dit, name, tensor);
      ++transformer_tensors;
    });
    checked.push_back("the text encoder's token table (" + std::to_string(m.vocabulary.size()) + " words)" +
                      (m.text_layers == 0 ? std::string()
                                          : " and its transformer's " + std::to_string(transformer_tensors) +
                                                " tensors (" + counted_noun(m.text_layers, "layer", "layers") + ")"));
  }
  if (m.latent == LatentKind::WanVae) {
    WanVaeWeights::check_file(m.folder / m.vae_file);
    checked.push_back("the VAE (" + files_and_bytes({m.folder / m.vae_file}) + ")");
  }
  return checked;
}

}  // namespace

std::vector<std::string> check_model_files(const ModelManifest& m) {
  try {
    return checked_model_files(m);
  } catch (const std::filesystem::filesystem_error& e) {  // as Model::load says it
    throw file_system_trouble("could not read the model in '" + m.folder.string() + "'", e);
  }
}

namespace {

// Model::load's work; load turns the file-system errors met here into UserErrors naming the path.
std::unique_ptr<Model> load_folder(const std::filesystem::path& folder, c10::Device device,
                                   const ModelOptions& given_options) {
  require_model_folder(folder);
  device = indexed_device(device);
  ModelOptions options = given_options;
  if (options.text_encoder_device) options.text_encoder_device = indexed_device(*options.text_encoder_device);
  if (options.vae_device) options.vae_device = indexed_device(*options.vae_device);
  check_cancel(options);
  if (loads_as_wan_folder(folder)) return load_wan(folder, device, options);
  auto model = std::make_unique<Model>();
  model->manifest = ModelManifest::read(folder);
  const ModelManifest& m = model->manifest;

  std::vector<std::shared_ptr<SafetensorsFile>> files;
  for (const auto& name : m.weight_files) {
    files.push_back(SafetensorsFile::open(folder / name));
  }

  if (m.latent == LatentKind::Pixel) model->decoder = std::make_unique<PixelDecoder>();  // dims checked by read()

  at::Tensor embedding;
  for (const auto& f : files) {
    if (f->contains(kTokenEmbedding)) embedding = f->load(kTokenEmbedding);
  }
  if (!embedding.defined()) {
    throw UserError(folder.string() + ": no weight file holds '" + kTokenEmbedding +
                    "' (the text encoder's token table)");
  }
  // Whole numbers would be read as weights of their values, as the DiT's loader refuses them too.
  if (!at::isFloatingType(embedding.scalar_type())) {
    throw UserError(folder.string() + ": '" + kTokenEmbedding + "' holds " +
                    std::string(c10::toString(embedding.scalar_type())) +
                    " values, not floating-point weights: the file is damaged or not this model's");
  }
  // Before the transformer's tensors are made in model.json's sizes: a hostile text_dim or
  // max_tokens would otherwise ask for gigabytes ahead of any check.
  if (embedding.dim() != 2 || embedding.size(1) != m.dit.text_dim) {
    throw UserError(folder.string() + ": the token table '" + kTokenEmbedding + "' has shape " +
                    c10::str(embedding.sizes()) + " but dit.text_dim is " + std::to_string(m.dit.text_dim));
  }
  // A row per word of model.json's vocabulary, as `svgear info --model` checks it from the header.
  if (embedding.size(0) != int64_t(m.vocabulary.size())) {
    throw UserError(folder.string() + ": the token table '" + kTokenEmbedding + "' has " +
                    std::to_string(embedding.size(0)) + " rows, but model.json's vocabulary has " +
                    std::to_string(m.vocabulary.size()) + " words: the two must be of one model");
  }
  PromptTransformerWeights transformer = text_transformer_shapes(m, files);
  transformer.for_each([&](const std::string& name, at::Tensor& tensor) {
    tensor = text_transformer_file(m, files, name, tensor).load(name).to(at::kFloat).contiguous();
  });
  auto tokens = std::make_unique<VocabTextEncoder>(m.vocabulary, embedding, m.max_tokens, std::move(transformer));
  if (m.prompt_grammar == kShapesWorldGrammar) {
    model->text_encoder = std::make_unique<ShapesPromptEncoder>(std::move(tokens));
  } else {
    model->text_encoder = std::move(tokens);
  }

  model->device = device;
  model->dtype = device.is_cuda() ? at::kBFloat16 : at::kFloat;
  model->dit = std::make_unique<WanDiT>(m.dit, WanWeights::load(m.dit, files, device, model->dtype, options.cancel));
  if (m.low_noise_expert) {
    model->low_noise_dit = load_dit(m, open_dit(m, m.low_noise_expert->weight_files), device, model->dtype,
                                    options.cancel, /*quantize_fp8=*/false);  // a Wan model's option only
  }
  return model;
}

// The files of `m` with their sizes and times now (Model::weight_files).
nlohmann::json weight_files_of(const ModelManifest& m) {
  std::vector<std::string> names = m.weight_files;
  if (m.low_noise_expert) names.insert(names.end(), m.low_noise_expert->weight_files.begin(), m.low_noise_expert->weight_files.end());
  names.insert(names.end(), m.text_encoder_files.begin(), m.text_encoder_files.end());
  for (const std::string* name : {&m.tokenizer, &m.vae_file}) {
    if (!name->empty()) names.push_back(*name);
  }
  nlohmann::json files = nlohmann::json::array();
  for (const std::string& name : names) {
    const std::filesystem::path path = m.folder / name;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) continue;
    const auto bytes = std::filesystem::file_size(path, ec);
    const auto modified = std::filesystem::last_write_time(path, ec);
    if (ec) continue;
    const auto since_epoch = std::chrono::file_clock::to_sys(modified).time_since_epoch();
    files.push_back({{"file", name},
                     {"bytes", bytes},
                     {"modified_ns", std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count()}});
  }
  return files;
}

}  // namespace

std::unique_ptr<Model> Model::load(const std::filesystem::path& folder, c10::Device device,
                                   const ModelOptions& options) {
  // The memory checks before the load see free memory at one moment; another program can take it
  // meanwhile. Said as what it is, not as an allocator's text or an internal error.
  const auto out_of_memory = [&](const std::string& where, bool gpu) {
    return UserError("loading the model in '" + folder.string() + "' ran out of memory on " + where +
                     ": close what else holds it" +
                     (gpu ? ", place the text encoder or the VAE on the CPU, or choose another device"
                          : ", or load it on a GPU"));
  };
  // A GPU ran out (LibTorch's CUDA allocator): the one of each part, which the error does not name.
  const auto gpus_of_parts = [&] {
    std::string out;
    const std::vector<c10::Device> gpus = part_devices(device, options).gpus();
    for (size_t i = 0; i < gpus.size(); ++i) out += (i == 0 ? "" : i + 1 < gpus.size() ? ", " : " or ") + gpus[i].str();
    return out.empty() ? std::string("the GPU") : out;
  };
  try {
    std::unique_ptr<Model> model = load_folder(folder, device, options);
    model->weight_files = weight_files_of(model->manifest);
    return model;
  } catch (const std::filesystem::filesystem_error& e) {
    throw file_system_trouble("could not read the model in '" + folder.string() + "'", e);
  } catch (const c10::OutOfMemoryError&) {
    throw out_of_memory(gpus_of_parts(), true);
  } catch (const std::bad_alloc&) {
    throw out_of_memory("cpu", false);
  } catch (const c10::Error& e) {
    if (is_host_allocation_failure(e)) throw out_of_memory("cpu", false);
    if (is_gpu_library_allocation_failure(e)) throw out_of_memory(gpus_of_parts(), true);
    throw;
  }
}

bool Model::bring_to_device(WanDiT& expert) {
  if (!idle_expert_on_cpu || expert_on_device == &expert) return false;
  WanDiT& other = &expert == dit.get() ? *low_noise_dit : *dit;
  expert_on_device = nullptr;
  WanDiT::swap_places(other, expert, device, dtype);
  expert_on_device = &expert;
  return true;
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
    // "cuda" or "cuda:N"; c10 rejects other spellings ("cuda:x") with an error of its own.
    const c10::Device device = [&] {
      try {
        return c10::Device(name);
      } catch (const c10::Error&) {
        throw UserError("unknown device '" + name + "' (choose auto, cpu, cuda or cuda:N)");
      }
    }();
    if (device.has_index() && static_cast<size_t>(device.index()) >= at::getNumGPUs()) {
      throw UserError("device '" + name + "' does not exist: this machine has " +
                      counted_noun(at::getNumGPUs(), "CUDA device", "CUDA devices"));
    }
    return device.has_index() ? device : c10::Device(c10::kCUDA, 0);
  }
  throw UserError("unknown device '" + name + "' (choose auto, cpu, cuda or cuda:N)");
}

}  // namespace svgear
