#include "core/decoder/wan_vae_weights.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <string_view>

#include <ATen/ATen.h>

#include "core/decoder/wan_vae_weight_names.h"
#include "core/io/file_extension.h"
#include "core/user_error.h"
#include "core/weights/checkpoint_mismatch.h"
#include "core/weights/safetensors_file.h"

namespace svgear {
namespace {

template <class Visit>
void visit_residual(const std::string& p, WanVaeResidualWeights& b, const Visit& one) {
  one(p + "residual.0.gamma", b.residual_0_gamma);
  one(p + "residual.2.weight", b.residual_2_weight);
  one(p + "residual.2.bias", b.residual_2_bias);
  one(p + "residual.3.gamma", b.residual_3_gamma);
  one(p + "residual.6.weight", b.residual_6_weight);
  one(p + "residual.6.bias", b.residual_6_bias);
  one(p + "shortcut.weight", b.shortcut_weight);
  one(p + "shortcut.bias", b.shortcut_bias);
}

// The one list of checkpoint names.
template <class Visit>
void visit_tensors(WanVaeWeights& w, const Visit& visit) {
  auto one = [&](const std::string& name, at::Tensor& tensor) {
    if (tensor.defined()) visit(name, tensor);
  };
  one("conv2.weight", w.conv2_weight);
  one("conv2.bias", w.conv2_bias);
  one("decoder.conv1.weight", w.decoder_conv1_weight);
  one("decoder.conv1.bias", w.decoder_conv1_bias);
  visit_residual("decoder.middle.0.", w.middle_0, one);
  one("decoder.middle.1.norm.gamma", w.middle_1.norm_gamma);
  one("decoder.middle.1.to_qkv.weight", w.middle_1.to_qkv_weight);
  one("decoder.middle.1.to_qkv.bias", w.middle_1.to_qkv_bias);
  one("decoder.middle.1.proj.weight", w.middle_1.proj_weight);
  one("decoder.middle.1.proj.bias", w.middle_1.proj_bias);
  visit_residual("decoder.middle.2.", w.middle_2, one);
  for (size_t stage = 0; stage < w.upsamples.size(); ++stage) {
    WanVaeStageWeights& s = w.upsamples[stage];
    int entry = 0;
    for (WanVaeResidualWeights& block : s.blocks) {
      visit_residual(w.config.upsample_entry_prefix(int(stage), entry++), block, one);
    }
    const std::string p = w.config.upsample_entry_prefix(int(stage), entry);
    one(p + "resample.1.weight", s.upsample.resample_1_weight);
    one(p + "resample.1.bias", s.upsample.resample_1_bias);
    one(p + "time_conv.weight", s.upsample.time_conv_weight);
    one(p + "time_conv.bias", s.upsample.time_conv_bias);
  }
  one("decoder.head.0.gamma", w.head_0_gamma);
  one("decoder.head.2.weight", w.head_2_weight);
  one("decoder.head.2.bias", w.head_2_bias);
}

at::Tensor meta_tensor(at::IntArrayRef shape) {
  return at::empty(shape, at::TensorOptions().device(at::kMeta).dtype(at::kFloat));
}

WanVaeResidualWeights meta_residual(int64_t in, int64_t out) {
  WanVaeResidualWeights b;
  b.residual_0_gamma = meta_tensor({in, 1, 1, 1});
  b.residual_2_weight = meta_tensor({out, in, 3, 3, 3});
  b.residual_2_bias = meta_tensor({out});
  b.residual_3_gamma = meta_tensor({out, 1, 1, 1});
  b.residual_6_weight = meta_tensor({out, out, 3, 3, 3});
  b.residual_6_bias = meta_tensor({out});
  if (in != out) {
    b.shortcut_weight = meta_tensor({out, in, 1, 1, 1});
    b.shortcut_bias = meta_tensor({out});
  }
  return b;
}

std::string shape_string(at::IntArrayRef shape) {
  std::ostringstream os;
  os << shape;
  return os.str();
}

bool is_loadable_dtype(WeightDtype dtype) {
  return dtype == WeightDtype::F32 || dtype == WeightDtype::F16 || dtype == WeightDtype::BF16;
}

// The decoder's tensors of a VAE file under their original names (wrapper prefix removed, Diffusers
// names renamed), pointing into the file's header.
struct VaeTensorIndex {
  std::map<std::string, const TensorEntry*> entries;
  std::map<std::string, std::vector<int64_t>> shapes;
  WanVaeConfig config;  // from the shapes
};

VaeTensorIndex index_vae_tensors(const SafetensorsFile& file) {
  // Original names, after whatever wrapper prefix precedes "decoder.conv1.weight".
  constexpr std::string_view kAnchor = "decoder.conv1.weight";
  std::string prefix;
  for (const TensorEntry& entry : file.tensors()) {
    if (entry.name.ends_with(kAnchor)) prefix = entry.name.substr(0, entry.name.size() - kAnchor.size());
  }
  VaeTensorIndex index;
  for (const TensorEntry& entry : file.tensors()) {
    if (!entry.name.starts_with(prefix)) continue;
    const std::string local = entry.name.substr(prefix.size());
    index.entries.emplace(local, &entry);
    index.shapes.emplace(local, entry.shape);
  }
  if (!index.entries.contains(std::string(kAnchor)) && file.contains("decoder.conv_in.weight")) {
    // Diffusers layout (AutoencoderKLWan), renamed once here: the 2.2 VAE's up blocks have an
    // `upsampler` (2.1: `upsamplers.0`); their resnet count fixes the original numbering.
    const bool wan22 = std::any_of(file.tensors().begin(), file.tensors().end(), [](const TensorEntry& e) {
      return e.name.starts_with("decoder.up_blocks.") && e.name.find(".upsampler.") != std::string::npos;
    });
    const WanVaeVersion version = wan22 ? WanVaeVersion::Wan22 : WanVaeVersion::Wan21;
    int resnets = 0;
    while (file.contains("decoder.up_blocks.0.resnets." + std::to_string(resnets) + ".conv1.weight")) ++resnets;
    const int num_res_blocks = std::max(resnets - 1, 0);
    index = {};
    for (const TensorEntry& entry : file.tensors()) {
      const std::string original = wan_vae_original_name(entry.name, version, num_res_blocks);
      if (original.empty()) continue;
      index.entries.emplace(original, &entry);
      index.shapes.emplace(original, entry.shape);
    }
  }
  index.config = WanVaeConfig::from_shapes(index.shapes);
  return index;
}

// Pickles can run code when loaded, and LibTorch cannot read them without Python anyway.
void refuse_pickle(const std::filesystem::path& path) {
  if (!has_pickle_extension(path)) return;
  throw WeightsError("'" + path.string() +
                     "' is a PyTorch pickle by its extension, which the studio does not load (pickles can run code "
                     "when opened). Use the safetensors file with the same weights instead: " +
                     wan_vae_download(wan_vae_version_from_name(path)));
}

}  // namespace

WanVaeWeights WanVaeWeights::meta(const WanVaeConfig& c) {
  const std::vector<int> dims = c.stage_dims();
  WanVaeWeights w;
  w.config = c;
  w.conv2_weight = meta_tensor({c.z_dim, c.z_dim, 1, 1, 1});
  w.conv2_bias = meta_tensor({c.z_dim});
  w.decoder_conv1_weight = meta_tensor({dims[0], c.z_dim, 3, 3, 3});
  w.decoder_conv1_bias = meta_tensor({dims[0]});
  w.middle_0 = meta_residual(dims[0], dims[0]);
  w.middle_1.norm_gamma = meta_tensor({dims[0], 1, 1});
  w.middle_1.to_qkv_weight = meta_tensor({3 * dims[0], dims[0], 1, 1});
  w.middle_1.to_qkv_bias = meta_tensor({3 * dims[0]});
  w.middle_1.proj_weight = meta_tensor({dims[0], dims[0], 1, 1});
  w.middle_1.proj_bias = meta_tensor({dims[0]});
  w.middle_2 = meta_residual(dims[0], dims[0]);
  const int stages = int(c.dim_mult.size());
  w.upsamples.resize(stages);
  for (int stage = 0; stage < stages; ++stage) {
    WanVaeStageWeights& s = w.upsamples[stage];
    int64_t in = c.stage_input_dim(stage);
    const int64_t out = dims[stage + 1];
    for (int j = 0; j <= c.num_res_blocks; ++j) {
      s.blocks.push_back(meta_residual(in, out));
      in = out;
    }
    if (stage + 1 == stages) continue;
    s.upsample.resample_1_weight = meta_tensor({c.resample_out_dim(int(out)), out, 3, 3});
    s.upsample.resample_1_bias = meta_tensor({c.resample_out_dim(int(out))});
    if (c.temporal_upsample[stage]) {
      s.upsample.time_conv_weight = meta_tensor({2 * out, out, 3, 1, 1});
      s.upsample.time_conv_bias = meta_tensor({2 * out});
    }
  }
  w.head_0_gamma = meta_tensor({dims.back(), 1, 1, 1});
  w.head_2_weight = meta_tensor({c.head_out_channels(), dims.back(), 3, 3, 3});
  w.head_2_bias = meta_tensor({c.head_out_channels()});
  return w;
}

namespace {

// load()'s checks from the header alone: every tensor's name, shape and dtype, and the latent
// statistics known for the config; throws WeightsError naming the file and every problem.
void check_vae_tensors(const std::filesystem::path& path, const VaeTensorIndex& index) {
  const WanVaeConfig& config = index.config;
  std::vector<std::string> missing;
  std::vector<std::string> mismatched;
  WanVaeWeights layout = WanVaeWeights::meta(config);
  layout.for_each_tensor([&](const std::string& name, at::Tensor& tensor) {
    auto it = index.entries.find(name);
    if (it == index.entries.end()) {
      missing.push_back(name);
      return;
    }
    const TensorEntry& entry = *it->second;
    if (entry.shape != tensor.sizes().vec()) {
      mismatched.push_back("wrong shape: " + name + ": expected " + shape_string(tensor.sizes().vec()) + ", got " +
                           shape_string(entry.shape));
      return;
    }
    if (!is_loadable_dtype(entry.dtype)) {
      mismatched.push_back("unsupported dtype: " + name + ": " + weight_dtype_name(entry.dtype) +
                           " (the VAE loads F32, F16 or BF16 tensors)");
    }
  });

  const bool known_latent = config.latents_mean.size() == size_t(config.z_dim);
  if (!missing.empty() || !mismatched.empty() || !known_latent) {
    std::ostringstream os;
    os << "'" << path.string() << "' is not a usable " << wan_vae_version_name(config.version)
       << " VAE (read as base dim " << config.base_dim << ", z dim " << config.z_dim << "): ";
    if (!known_latent) {
      os << "its latent statistics are known for " << config.latents_mean.size()
         << " channels only (the released VAE's), not " << config.z_dim << "; ";
    }
    os << counted_noun(missing.size(), "tensor", "tensors") << " missing, " << mismatched.size()
       << " with the wrong shape or dtype. Check that this is the VAE file ("
       << wan_vae_download(config.version) << ") and that it downloaded completely.";
    os << tensor_problem_lines(missing, mismatched);
    throw WeightsError(os.str());
  }
}

}  // namespace

void WanVaeWeights::check_file(const std::filesystem::path& path) {
  refuse_pickle(path);
  const std::shared_ptr<SafetensorsFile> file = SafetensorsFile::open(path);
  check_vae_tensors(path, index_vae_tensors(*file));
}

WanVaeWeights WanVaeWeights::load(const std::filesystem::path& path) {
  refuse_pickle(path);
  const std::shared_ptr<SafetensorsFile> file = SafetensorsFile::open(path);
  const VaeTensorIndex index = index_vae_tensors(*file);
  check_vae_tensors(path, index);  // before any tensor is read
  WanVaeWeights w = meta(index.config);
  w.for_each_tensor([&](const std::string& name, at::Tensor& tensor) {
    tensor = file->load(index.entries.at(name)->name).to(at::kFloat);
  });
  return w;
}

WanVaeConfig WanVaeWeights::read_config(const std::filesystem::path& path) {
  refuse_pickle(path);
  return index_vae_tensors(*SafetensorsFile::open(path)).config;
}

void WanVaeWeights::for_each_tensor(const TensorVisitor& visit) { visit_tensors(*this, visit); }

void WanVaeWeights::to(at::Device device, at::ScalarType dtype) {
  for_each_tensor([&](const std::string&, at::Tensor& tensor) { tensor = tensor.to(device, dtype); });
}

WanVaeVersion wan_vae_version_from_name(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  const bool wan22 = name.find("2.2") != std::string::npos || name.find("2_2") != std::string::npos;
  return wan22 ? WanVaeVersion::Wan22 : WanVaeVersion::Wan21;
}

const char* wan_vae_download(WanVaeVersion version) {
  // Where ComfyUI users get the safetensors version of each official pickle.
  return version == WanVaeVersion::Wan22
             ? "wan2.2_vae.safetensors (Comfy-Org/Wan_2.2_ComfyUI_Repackaged, split_files/vae/)"
             : "wan_2.1_vae.safetensors (Comfy-Org/Wan_2.1_ComfyUI_repackaged, split_files/vae/)";
}

}  // namespace svgear
