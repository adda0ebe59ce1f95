#include "core/text/umt5_weights.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>

#include <ATen/ATen.h>

#include "core/io/file_extension.h"
#include "core/io/not_a_file.h"
#include "core/text/umt5_weight_names.h"
#include "core/user_error.h"
#include "core/weights/checkpoint_mismatch.h"
#include "core/weights/safetensors_file.h"

namespace svgear {
namespace {

constexpr std::string_view kScaleSuffix = ".scale_weight";

// Where a checkpoint tensor is stored.
struct StoredTensor {
  const SafetensorsFile* file = nullptr;
  std::string stored_name;
};

// Every tensor of `files` under its original Wan name (scales as "<module>.scale_weight"). The
// layout and a wrapper prefix (e.g. "text_encoders.umt5xxl.transformer.") come from the anchor name
// each layout has exactly once; tensors outside the encoder (decoder, lm_head) are left out.
std::map<std::string, StoredTensor> index_checkpoint(
    const std::vector<std::shared_ptr<SafetensorsFile>>& files) {
  // Only the older per-tensor scaled fp8 (scale_weight) is applied on loading.
  if (const std::string scale = layer_quantization_tensor(files); !scale.empty()) {
    throw WeightsError("umT5 text encoder weights in " + checkpoint_file_list(files) + " are quantized per layer (" +
                       scale + "), which is not supported: use umt5_xxl_fp16.safetensors or "
                       "umt5_xxl_fp8_e4m3fn_scaled.safetensors");
  }
  constexpr std::string_view kHfAnchor = "encoder.final_layer_norm.weight";
  constexpr std::string_view kOriginalAnchor = "token_embedding.weight";
  std::string prefix;
  bool hf = false;
  bool anchored = false;
  for (const auto& file : files) {
    for (const TensorEntry& entry : file->tensors()) {
      if (entry.name.ends_with(kHfAnchor)) {
        prefix = entry.name.substr(0, entry.name.size() - kHfAnchor.size());
        hf = true;
        anchored = true;
      } else if (!anchored && entry.name.ends_with(kOriginalAnchor)) {
        prefix = entry.name.substr(0, entry.name.size() - kOriginalAnchor.size());
        anchored = true;
      }
    }
  }
  if (!anchored) {
    throw WeightsError("no umT5 text encoder in " + checkpoint_file_list(files) + ": none of its tensors is " +
                       std::string(kOriginalAnchor) + " (Wan layout) or " + std::string(kHfAnchor) +
                       " (Hugging Face / ComfyUI layout). Is this the text encoder file " +
                       "(umt5_xxl_fp16.safetensors)?");
  }

  std::map<std::string, StoredTensor> index;
  for (const auto& file : files) {
    for (const TensorEntry& entry : file->tensors()) {
      if (!entry.name.starts_with(prefix)) continue;
      const std::string local = entry.name.substr(prefix.size());
      const std::string original = hf ? umt5_original_name(local) : local;
      if (!original.empty()) index.emplace(original, StoredTensor{file.get(), entry.name});
    }
  }
  return index;
}

std::string shape_string(at::IntArrayRef shape) {
  std::ostringstream os;
  os << shape;
  return os.str();
}

constexpr int kMaxUmt5Layers = 256;

// The size `name` has in the checkpoint along `dim`, or `fallback` when it is absent (then it is
// reported missing later).
int stored_size(const std::map<std::string, StoredTensor>& index, const std::string& name,
                size_t dim, int fallback) {
  auto it = index.find(name);
  if (it == index.end()) return fallback;
  const TensorEntry* entry = it->second.file->find(it->second.stored_name);
  return dim < entry->shape.size() ? int(entry->shape[dim]) : fallback;
}

Umt5Config detect_config(const std::map<std::string, StoredTensor>& index) {
  Umt5Config c;
  int layers = 0;
  while (index.contains("blocks." + std::to_string(layers) + ".norm1.weight")) ++layers;
  // umT5-xxl has 24; a header of a million empty entries must not build a million layers' records.
  if (layers > kMaxUmt5Layers) {
    throw WeightsError("the text encoder's files name " + std::to_string(layers) + " layers (blocks.N.norm1.weight); "
                    "umT5 has 24, and more than " + std::to_string(kMaxUmt5Layers) + " are refused");
  }
  c.num_layers = layers;
  c.vocab = stored_size(index, "token_embedding.weight", 0, c.vocab);
  c.dim = stored_size(index, "norm.weight", 0, c.dim);
  c.dim_attn = stored_size(index, "blocks.0.attn.q.weight", 0, c.dim_attn);
  c.dim_ffn = stored_size(index, "blocks.0.ffn.fc1.weight", 0, c.dim_ffn);
  c.num_buckets = stored_size(index, "blocks.0.pos_embedding.embedding.weight", 0, c.num_buckets);
  c.num_heads = stored_size(index, "blocks.0.pos_embedding.embedding.weight", 1, c.num_heads);
  // Sizes a hostile or broken file can claim with zero-byte tensors: the encoder divides by the
  // heads, buckets its relative positions and looks up EOS (id 1) in the embedding.
  const auto require = [](bool ok, const std::string& what) {
    if (!ok) throw UserError("the umT5 text encoder's weights are not a umT5 encoder: " + what);
  };
  require(c.vocab >= 2, "its token embedding has " + std::to_string(c.vocab) + " rows");
  require(c.dim >= 1 && c.dim_attn >= 1 && c.dim_ffn >= 1, "a width of 0 or less");
  require(c.num_heads >= 1 && c.dim_attn % c.num_heads == 0,
          std::to_string(c.num_heads) + " heads for an attention width of " + std::to_string(c.dim_attn));
  require(c.num_buckets >= 4, std::to_string(c.num_buckets) + " relative-position buckets (at least 4)");
  return c;
}

// (name, member, expected shape) of every tensor, in checkpoint order.
struct ExpectedTensor {
  std::string name;
  at::Tensor* tensor = nullptr;
  std::vector<int64_t> shape;
};

std::vector<ExpectedTensor> expected_tensors(Umt5Weights& w) {
  const Umt5Config& c = w.config;
  std::vector<ExpectedTensor> out;
  out.push_back({"token_embedding.weight", &w.token_embedding_weight, {c.vocab, c.dim}});
  for (int i = 0; i < c.num_layers; ++i) {
    Umt5LayerWeights& b = w.blocks[i];
    const std::string p = "blocks." + std::to_string(i) + ".";
    out.push_back({p + "norm1.weight", &b.norm1_weight, {c.dim}});
    out.push_back({p + "attn.q.weight", &b.attn_q_weight, {c.dim_attn, c.dim}});
    out.push_back({p + "attn.k.weight", &b.attn_k_weight, {c.dim_attn, c.dim}});
    out.push_back({p + "attn.v.weight", &b.attn_v_weight, {c.dim_attn, c.dim}});
    out.push_back({p + "attn.o.weight", &b.attn_o_weight, {c.dim, c.dim_attn}});
    out.push_back({p + "norm2.weight", &b.norm2_weight, {c.dim}});
    out.push_back({p + "ffn.gate.0.weight", &b.ffn_gate_0_weight, {c.dim_ffn, c.dim}});
    out.push_back({p + "ffn.fc1.weight", &b.ffn_fc1_weight, {c.dim_ffn, c.dim}});
    out.push_back({p + "ffn.fc2.weight", &b.ffn_fc2_weight, {c.dim, c.dim_ffn}});
    out.push_back({p + "pos_embedding.embedding.weight",
                   &b.pos_embedding_weight,
                   {c.num_buckets, c.num_heads}});
  }
  out.push_back({"norm.weight", &w.norm_weight, {c.dim}});
  return out;
}

// "blocks.0.attn.q.weight" → "blocks.0.attn.q.scale_weight" (ComfyUI puts the scale on the module).
std::string scale_name(const std::string& weight_name) {
  constexpr std::string_view kWeight = ".weight";
  return weight_name.substr(0, weight_name.size() - kWeight.size()) + std::string(kScaleSuffix);
}

}  // namespace

Umt5Config Umt5Weights::read_config(const std::vector<std::shared_ptr<SafetensorsFile>>& files) {
  return detect_config(index_checkpoint(files));
}

Umt5Weights Umt5Weights::meta(const Umt5Config& config) {
  Umt5Weights w;
  w.config = config;
  w.blocks.resize(config.num_layers);
  for (const ExpectedTensor& expected : expected_tensors(w)) {
    *expected.tensor = at::empty(expected.shape, at::TensorOptions().device(at::kMeta).dtype(at::kFloat));
  }
  return w;
}

void Umt5Weights::for_each_tensor(const TensorVisitor& visit) {
  for (const ExpectedTensor& expected : expected_tensors(*this)) visit(expected.name, *expected.tensor);
}

namespace {

// The layout the files' headers describe (config and blocks, no tensor), after checking every
// tensor's name, shape and dtype from the headers: a file of another model fails at once, not
// after ~11 GB of loading.
Umt5Weights checked_layout(const std::vector<std::shared_ptr<SafetensorsFile>>& files,
                           const std::map<std::string, StoredTensor>& index) {
  Umt5Weights w;
  w.config = detect_config(index);
  w.blocks.resize(w.config.num_layers);

  std::vector<std::string> missing;
  std::vector<std::string> mismatched;
  if (w.config.num_layers == 0) missing.push_back("blocks.0.norm1.weight (no layers at all)");
  const std::vector<ExpectedTensor> expected_all = expected_tensors(w);
  for (const ExpectedTensor& expected : expected_all) {
    auto it = index.find(expected.name);
    if (it == index.end()) {
      missing.push_back(expected.name);
      continue;
    }
    const SafetensorsFile& file = *it->second.file;
    const TensorEntry* entry = file.find(it->second.stored_name);
    if (entry->shape != expected.shape) {
      mismatched.push_back("wrong shape: " + expected.name + ": expected " +
                           shape_string(expected.shape) + ", found " + shape_string(entry->shape) +
                           " in " + file.path().string());
      continue;
    }
    if (!weight_dtype_is_float(entry->dtype)) {
      mismatched.push_back("unsupported dtype: " + expected.name + " is " +
                           weight_dtype_name(entry->dtype) + " in " + file.path().string() +
                           "; expected F32, F16, BF16 or F8_E4M3");
      continue;
    }
    if (auto scale = index.find(scale_name(expected.name)); scale != index.end()) {
      const TensorEntry* scale_entry = scale->second.file->find(scale->second.stored_name);
      int64_t elements = 1;
      for (const int64_t size : scale_entry->shape) elements *= size;
      if (elements != 1 || !weight_dtype_is_float(scale_entry->dtype)) {
        mismatched.push_back(scale_name(expected.name) + " in " + scale->second.file->path().string() +
                             " must be one float, the scale of " + expected.name);
      }
    }
  }
  if (!missing.empty() || !mismatched.empty()) {
    std::ostringstream os;
    os << "umT5 text encoder weights in " << checkpoint_file_list(files) << " are incomplete or do not fit ("
       << w.config.num_layers << " layers, dim " << w.config.dim << ", " << w.config.num_heads
       << " heads): " << counted_noun(missing.size(), "tensor", "tensors") << " missing, " << mismatched.size()
       << " with the wrong shape or dtype. Download the text encoder file again, or check that it "
       << "is a umT5 encoder (umt5_xxl_fp16.safetensors).";
    os << tensor_problem_lines(missing, mismatched);
    throw WeightsError(os.str());
  }

  return w;
}

}  // namespace

void Umt5Weights::check_files(const std::vector<std::shared_ptr<SafetensorsFile>>& files) {
  (void)checked_layout(files, index_checkpoint(files));
}

Umt5Weights Umt5Weights::load(const std::vector<std::shared_ptr<SafetensorsFile>>& files,
                              at::Device device, at::ScalarType dtype, const CancelToken* cancel,
                              LoadProgress* progress) {
  if (dtype != at::kFloat && dtype != at::kBFloat16 && dtype != at::kHalf) {
    throw UserError("the umT5 text encoder runs in float32, bfloat16 or float16, not " +
                    std::string(c10::toString(dtype)));
  }
  const std::map<std::string, StoredTensor> index = index_checkpoint(files);
  Umt5Weights w = checked_layout(files, index);
  const std::vector<ExpectedTensor> expected_all = expected_tensors(w);
  for (const ExpectedTensor& expected : expected_all) {
    if (cancel) cancel->throw_if_cancelled();
    const StoredTensor& stored = index.at(expected.name);
    at::Tensor tensor = stored.file->load(stored.stored_name);
    if (progress) progress->tensor_read(int64_t(tensor.nbytes()));
    if (auto scale = index.find(scale_name(expected.name)); scale != index.end()) {
      // Scaled fp8 (ComfyUI): the stored weight is weight / scale_weight, rounded to e4m3.
      const at::Tensor scale_weight = scale->second.file->load(scale->second.stored_name);
      if (progress) progress->tensor_read(int64_t(scale_weight.nbytes()));
      tensor = tensor.to(at::kFloat) * scale_weight.to(at::kFloat).reshape({});
    }
    // Straight to `dtype`: a float32 detour would double the peak for the 4 GB xxl embedding.
    *expected.tensor = tensor.to(device, dtype);
  }
  return w;
}

std::vector<std::shared_ptr<SafetensorsFile>> open_umt5_files(
    const std::vector<std::filesystem::path>& paths) {
  std::vector<std::shared_ptr<SafetensorsFile>> files;
  for (const auto& path : paths) {
    if (has_pickle_extension(path)) {
      throw WeightsError(
          "'" + path.string() +
          "' is a PyTorch pickle by its extension, which is not loaded because opening it can " +
          "run code. Use the safetensors text encoder instead: umt5_xxl_fp16.safetensors (or " +
          "umt5_xxl_fp8_e4m3fn_scaled.safetensors) from Comfy-Org/Wan_2.1_ComfyUI_repackaged, " +
          "split_files/text_encoders/, or the text_encoder/model-*.safetensors shards of the " +
          "Diffusers repository (Wan-AI/Wan2.1-T2V-1.3B-Diffusers)");
    }
    files.push_back(SafetensorsFile::open(path));
  }
  if (files.empty()) throw WeightsError("no umT5 text encoder file given");
  return files;
}

std::vector<std::filesystem::path> find_umt5_files(const std::filesystem::path& folder) {
  namespace fs = std::filesystem;
  std::vector<fs::path> singles, shards, pickles;
  const auto names_t5 = [](const fs::path& p) { return p.filename().string().find("t5") != std::string::npos; };
  const auto is_safetensors = [](const fs::path& p) { return p.extension() == ".safetensors"; };
  // At the top or in ComfyUI's text_encoders/ (wan_folder.cpp); increment(ec): a listing error ends
  // the listing instead of throwing.
  for (const auto& dir : {folder, folder / "text_encoders"}) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code type_error;
      if (!it->is_regular_file(type_error) || !names_t5(it->path())) continue;
      if (is_safetensors(it->path())) {
        singles.push_back(it->path());
      } else if (has_pickle_extension(it->path())) {
        pickles.push_back(it->path());
      }
    }
  }
  std::error_code ec;
  for (fs::directory_iterator it(folder / "text_encoder", ec), end; !ec && it != end; it.increment(ec)) {
    if (is_safetensors(it->path())) shards.push_back(it->path());
  }
  // umT5 first: ComfyUI's models/text_encoders/ often also holds Flux's t5xxl_fp16.safetensors,
  // which sorts before umt5_xxl_*. Then full precision before fp8, then by name.
  const auto rank = [](const fs::path& p) {
    const std::string name = p.filename().string();
    return std::make_tuple(name.find("umt5") == std::string::npos, name.find("fp8") != std::string::npos, p);
  };
  std::sort(singles.begin(), singles.end(), [&](const fs::path& a, const fs::path& b) { return rank(a) < rank(b); });
  std::sort(shards.begin(), shards.end());
  if (!singles.empty()) return {singles.front()};
  if (!shards.empty()) return shards;
  if (!pickles.empty()) open_umt5_files(pickles);  // throws the pickle message
  throw UserError(
      "no umT5 text encoder in '" + folder.string() + "': looked for " +
      (folder / "*t5*.safetensors").string() + " (e.g. umt5_xxl_fp16.safetensors), " +
      (folder / "text_encoders" / "*t5*.safetensors").string() + " and " +
      (folder / "text_encoder" / "*.safetensors").string() + "." +
      entries_not_files({folder, folder / "text_encoders"},
                        [&](const fs::path& p) { return is_safetensors(p) && names_t5(p); }) +
      entries_not_files({folder / "text_encoder"}, is_safetensors) +
      " Download umt5_xxl_fp16.safetensors from Comfy-Org/Wan_2.1_ComfyUI_repackaged " +
      "(split_files/text_encoders/) into this folder.");
}

}  // namespace svgear
