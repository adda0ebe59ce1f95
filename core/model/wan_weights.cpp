#include "core/model/wan_weights.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <tuple>

#include <ATen/ATen.h>

#include "core/model/wan_checkpoint_index.h"
#include "core/user_error.h"
#include "core/weights/checkpoint_mismatch.h"
#include "core/weights/safetensors_file.h"
#include "kernels/common/page_locked_memory.h"

namespace svgear {
namespace {

constexpr WeightPrecision kCompute = WeightPrecision::Compute;
constexpr WeightPrecision kFloat32 = WeightPrecision::Float32;

// The one list of checkpoint names; `Weights` is WanWeights or const WanWeights.
template <class Weights, class Visit>
void visit_tensors(Weights& w, const Visit& visit) {
  auto one = [&](const std::string& name, auto& tensor, WeightPrecision precision) {
    if (!tensor.defined()) return;
    visit(name, tensor, tensor.scalar_type() == at::kFloat8_e4m3fn ? WeightPrecision::Fp8 : precision);
  };
  one("patch_embedding.weight", w.patch_embedding_weight, kCompute);
  one("patch_embedding.bias", w.patch_embedding_bias, kCompute);
  one("text_embedding.0.weight", w.text_embedding_0_weight, kCompute);
  one("text_embedding.0.bias", w.text_embedding_0_bias, kCompute);
  one("text_embedding.2.weight", w.text_embedding_2_weight, kCompute);
  one("text_embedding.2.bias", w.text_embedding_2_bias, kCompute);
  one("time_embedding.0.weight", w.time_embedding_0_weight, kFloat32);
  one("time_embedding.0.bias", w.time_embedding_0_bias, kFloat32);
  one("time_embedding.2.weight", w.time_embedding_2_weight, kFloat32);
  one("time_embedding.2.bias", w.time_embedding_2_bias, kFloat32);
  one("time_projection.1.weight", w.time_projection_1_weight, kFloat32);
  one("time_projection.1.bias", w.time_projection_1_bias, kFloat32);
  for (size_t i = 0; i < w.blocks.size(); ++i) {
    auto& b = w.blocks[i];
    const std::string p = "blocks." + std::to_string(i) + ".";
    one(p + "modulation", b.modulation, kFloat32);
    one(p + "self_attn.q.weight", b.self_attn_q_weight, kCompute);
    one(p + "self_attn.q.scale_weight", b.self_attn_q_scale, kFloat32);
    one(p + "self_attn.q.bias", b.self_attn_q_bias, kCompute);
    one(p + "self_attn.k.weight", b.self_attn_k_weight, kCompute);
    one(p + "self_attn.k.scale_weight", b.self_attn_k_scale, kFloat32);
    one(p + "self_attn.k.bias", b.self_attn_k_bias, kCompute);
    one(p + "self_attn.v.weight", b.self_attn_v_weight, kCompute);
    one(p + "self_attn.v.scale_weight", b.self_attn_v_scale, kFloat32);
    one(p + "self_attn.v.bias", b.self_attn_v_bias, kCompute);
    one(p + "self_attn.o.weight", b.self_attn_o_weight, kCompute);
    one(p + "self_attn.o.scale_weight", b.self_attn_o_scale, kFloat32);
    one(p + "self_attn.o.bias", b.self_attn_o_bias, kCompute);
    one(p + "self_attn.norm_q.weight", b.self_attn_norm_q_weight, kFloat32);
    one(p + "self_attn.norm_k.weight", b.self_attn_norm_k_weight, kFloat32);
    one(p + "norm3.weight", b.norm3_weight, kFloat32);
    one(p + "norm3.bias", b.norm3_bias, kFloat32);
    one(p + "cross_attn.q.weight", b.cross_attn_q_weight, kCompute);
    one(p + "cross_attn.q.scale_weight", b.cross_attn_q_scale, kFloat32);
    one(p + "cross_attn.q.bias", b.cross_attn_q_bias, kCompute);
    one(p + "cross_attn.k.weight", b.cross_attn_k_weight, kCompute);
    one(p + "cross_attn.k.scale_weight", b.cross_attn_k_scale, kFloat32);
    one(p + "cross_attn.k.bias", b.cross_attn_k_bias, kCompute);
    one(p + "cross_attn.v.weight", b.cross_attn_v_weight, kCompute);
    one(p + "cross_attn.v.scale_weight", b.cross_attn_v_scale, kFloat32);
    one(p + "cross_attn.v.bias", b.cross_attn_v_bias, kCompute);
    one(p + "cross_attn.o.weight", b.cross_attn_o_weight, kCompute);
    one(p + "cross_attn.o.scale_weight", b.cross_attn_o_scale, kFloat32);
    one(p + "cross_attn.o.bias", b.cross_attn_o_bias, kCompute);
    one(p + "cross_attn.norm_q.weight", b.cross_attn_norm_q_weight, kFloat32);
    one(p + "cross_attn.norm_k.weight", b.cross_attn_norm_k_weight, kFloat32);
    one(p + "ffn.0.weight", b.ffn_0_weight, kCompute);
    one(p + "ffn.0.scale_weight", b.ffn_0_scale, kFloat32);
    one(p + "ffn.0.bias", b.ffn_0_bias, kCompute);
    one(p + "ffn.2.weight", b.ffn_2_weight, kCompute);
    one(p + "ffn.2.scale_weight", b.ffn_2_scale, kFloat32);
    one(p + "ffn.2.bias", b.ffn_2_bias, kCompute);
  }
  one("head.modulation", w.head_modulation, kFloat32);
  one("head.head.weight", w.head_head_weight, kFloat32);
  one("head.head.bias", w.head_head_bias, kFloat32);
}

constexpr std::string_view kScaleSuffix = "scale_weight";

// "blocks.3.ffn.0.scale_weight": where scaled fp8 keeps the scale of block `block`'s linear `linear`.
std::string block_scale_name(size_t block, const char* linear) {
  return "blocks." + std::to_string(block) + "." + linear + "." + std::string(kScaleSuffix);
}

// "blocks.3.ffn.0.weight" → "blocks.3.ffn.0.scale_weight": where scaled fp8 keeps a weight's scale.
std::string scale_name_of(std::string_view weight_name) {
  return std::string(weight_name.substr(0, weight_name.size() - std::string_view("weight").size())) +
         std::string(kScaleSuffix);
}

// The inverse: the weight a scale belongs to.
std::string weight_name_of(std::string_view scale_name) {
  return std::string(scale_name.substr(0, scale_name.size() - kScaleSuffix.size())) + "weight";
}

at::Tensor meta_tensor(at::IntArrayRef shape) {
  return at::empty(shape, at::TensorOptions().device(at::kMeta).dtype(at::kFloat));
}

std::string shape_string(at::IntArrayRef shape) {
  std::ostringstream os;
  os << shape;
  return os.str();
}

// A scaled fp8 weight's scale as the format has it: floats of 16 or 32 bits (an e4m3 scale is no
// format's, and neither the finiteness check nor the dequantisation takes one), one, or one per row
// of the weight.
bool fits_as_scale(const TensorEntry& scale, int64_t rows) {
  int64_t elements = 1;
  for (int64_t extent : scale.shape) elements *= extent;
  const bool wide_float = scale.dtype == WeightDtype::F32 || scale.dtype == WeightDtype::F16 || scale.dtype == WeightDtype::BF16;
  return wide_float && (elements == 1 || elements == rows);
}

// "" when `scale`, beside the weight `weight_name` of `rows` rows, is a scale scaled fp8 stores
// (fits_as_scale); else what is wrong with it, as load and refuse_misfit_scales list it.
std::string misfit_scale(const StoredTensor& scale, const std::string& weight_name, int64_t rows) {
  const TensorEntry& entry = scale.entry();
  if (fits_as_scale(entry, rows)) return "";
  return "wrong scale: " + scale.stored_name + " in " + scale.file->path().string() +
         ": expected one float, or one per row of " + weight_name + " (" + std::to_string(rows) + "), found " +
         weight_dtype_name(entry.dtype) + " " + shape_string(entry.shape);
}

}  // namespace

at::ScalarType held_dtype(WeightPrecision precision, at::ScalarType compute) {
  switch (precision) {
    case WeightPrecision::Compute: return compute;
    case WeightPrecision::Fp8: return at::kFloat8_e4m3fn;
    default: return at::kFloat;
  }
}

at::Tensor dequantized_fp8(const at::Tensor& weight, const at::Tensor& scale, at::ScalarType dtype) {
  std::vector<int64_t> per_row(weight.dim(), 1);
  per_row.front() = -1;
  const at::Tensor factor = scale.numel() == 1 ? scale.reshape({}) : scale.reshape(per_row);
  return weight.to(at::kFloat).mul_(factor.to(at::kFloat)).to(dtype);  // one float32 copy at a time
}

std::pair<at::Tensor, at::Tensor> quantized_fp8(const at::Tensor& weight) {
  // The largest magnitude in the weight's own dtype (exact), then one float32 copy, divided in place.
  const at::Tensor scale = at::clamp_min(weight.abs().amax().to(at::kFloat) / 448.0, 1e-30);  // all-zero stays zero
  return {weight.to(at::kFloat, /*non_blocking=*/false, /*copy=*/true).div_(scale).to(at::kFloat8_e4m3fn), scale};
}

std::array<WanBlockWeights::Linear, 10> WanBlockWeights::linears() {
  return {{{"self_attn.q", &self_attn_q_weight, &self_attn_q_scale},
           {"self_attn.k", &self_attn_k_weight, &self_attn_k_scale},
           {"self_attn.v", &self_attn_v_weight, &self_attn_v_scale},
           {"self_attn.o", &self_attn_o_weight, &self_attn_o_scale},
           {"cross_attn.q", &cross_attn_q_weight, &cross_attn_q_scale},
           {"cross_attn.k", &cross_attn_k_weight, &cross_attn_k_scale},
           {"cross_attn.v", &cross_attn_v_weight, &cross_attn_v_scale},
           {"cross_attn.o", &cross_attn_o_weight, &cross_attn_o_scale},
           {"ffn.0", &ffn_0_weight, &ffn_0_scale},
           {"ffn.2", &ffn_2_weight, &ffn_2_scale}}};
}

namespace {

// fp8_scales over a checkpoint's index.
WanWeights::Fp8Scales fp8_scales_in(const WanCheckpointIndex& index) {
  WanWeights::Fp8Scales out;
  for (const auto& [name, stored] : index) {
    if (!name.starts_with("blocks.") || !name.ends_with(".weight")) continue;
    const TensorEntry& weight = stored.entry();
    if (weight.dtype != WeightDtype::F8_E4M3 || weight.shape.size() != 2) continue;  // not a linear in e4m3
    const std::string scale_name = scale_name_of(name);
    const auto scale = index.find(scale_name);
    if (scale == index.end()) {  // plain e4m3 (ComfyUI's *_fp8_e4m3fn): scale 1
      out.emplace(scale_name, std::vector<int64_t>{});
      continue;
    }
    // A scale that does not fit goes through load's dequantisation, which names what is wrong.
    const TensorEntry& entry = scale->second.entry();
    // Held as [] or [rows] whatever the file's shape ([1], [rows, 1]), so that two experts scaled
    // alike are held alike.
    if (!fits_as_scale(entry, weight.shape.front())) continue;
    const bool one = std::all_of(entry.shape.begin(), entry.shape.end(), [](int64_t extent) { return extent == 1; });
    out.emplace(scale_name, one ? std::vector<int64_t>{} : std::vector<int64_t>{weight.shape.front()});
  }
  return out;
}

}  // namespace

WanWeights::Fp8Scales WanWeights::fp8_scales(const std::vector<std::shared_ptr<SafetensorsFile>>& files) {
  return fp8_scales_in(index_wan_checkpoint(files));
}

WanWeights::Fp8Scales WanWeights::every_block_linear(const WanConfig& config) {
  Fp8Scales out;
  WanWeights layout = meta(config);
  for (size_t i = 0; i < layout.blocks.size(); ++i) {
    for (const WanBlockWeights::Linear& linear : layout.blocks[i].linears()) {
      out.emplace(block_scale_name(i, linear.name), std::vector<int64_t>{});
    }
  }
  return out;
}

namespace {

// fp8_layout over a checkpoint's index.
WanWeights::Fp8Scales fp8_layout_in(const WanConfig& config, const WanCheckpointIndex& index,
                                    bool quantize_fp8) {
  WanWeights::Fp8Scales fp8 = fp8_scales_in(index);
  if (!quantize_fp8) return fp8;
  for (auto& [scale_name, shape] : WanWeights::every_block_linear(config)) {
    if (!index.contains(scale_name)) fp8.emplace(scale_name, shape);  // emplace keeps fp8_scales' own
  }
  return fp8;
}

}  // namespace

WanWeights::Fp8Scales WanWeights::fp8_layout(const WanConfig& config,
                                             const std::vector<std::shared_ptr<SafetensorsFile>>& files,
                                             bool quantize_fp8) {
  return fp8_layout_in(config, index_wan_checkpoint(files), quantize_fp8);
}

WanWeights WanWeights::meta(const WanConfig& c, const Fp8Scales& fp8) {
  const int64_t dim = c.dim;
  const int64_t ffn = c.ffn_dim;
  WanWeights w;
  w.patch_embedding_weight =
      meta_tensor({dim, c.in_dim, c.patch_size[0], c.patch_size[1], c.patch_size[2]});
  w.patch_embedding_bias = meta_tensor({dim});
  w.text_embedding_0_weight = meta_tensor({dim, c.text_dim});
  w.text_embedding_0_bias = meta_tensor({dim});
  w.text_embedding_2_weight = meta_tensor({dim, dim});
  w.text_embedding_2_bias = meta_tensor({dim});
  w.time_embedding_0_weight = meta_tensor({dim, c.freq_dim});
  w.time_embedding_0_bias = meta_tensor({dim});
  w.time_embedding_2_weight = meta_tensor({dim, dim});
  w.time_embedding_2_bias = meta_tensor({dim});
  w.time_projection_1_weight = meta_tensor({6 * dim, dim});
  w.time_projection_1_bias = meta_tensor({6 * dim});
  w.blocks.resize(c.num_layers);
  for (WanBlockWeights& b : w.blocks) {
    b.modulation = meta_tensor({1, 6, dim});
    for (at::Tensor* weight :
         {&b.self_attn_q_weight, &b.self_attn_k_weight, &b.self_attn_v_weight,
          &b.self_attn_o_weight, &b.cross_attn_q_weight, &b.cross_attn_k_weight,
          &b.cross_attn_v_weight, &b.cross_attn_o_weight}) {
      *weight = meta_tensor({dim, dim});
    }
    for (at::Tensor* bias : {&b.self_attn_q_bias, &b.self_attn_k_bias, &b.self_attn_v_bias,
                             &b.self_attn_o_bias, &b.cross_attn_q_bias, &b.cross_attn_k_bias,
                             &b.cross_attn_v_bias, &b.cross_attn_o_bias}) {
      *bias = meta_tensor({dim});
    }
    if (c.qk_norm) {
      b.self_attn_norm_q_weight = meta_tensor({dim});
      b.self_attn_norm_k_weight = meta_tensor({dim});
      b.cross_attn_norm_q_weight = meta_tensor({dim});
      b.cross_attn_norm_k_weight = meta_tensor({dim});
    }
    if (c.cross_attn_norm) {
      b.norm3_weight = meta_tensor({dim});
      b.norm3_bias = meta_tensor({dim});
    }
    b.ffn_0_weight = meta_tensor({ffn, dim});
    b.ffn_0_bias = meta_tensor({ffn});
    b.ffn_2_weight = meta_tensor({dim, ffn});
    b.ffn_2_bias = meta_tensor({dim});
  }
  for (size_t i = 0; i < w.blocks.size(); ++i) {
    for (const WanBlockWeights::Linear& linear : w.blocks[i].linears()) {
      const auto kept = fp8.find(block_scale_name(i, linear.name));
      if (kept == fp8.end()) continue;
      *linear.weight = linear.weight->to(at::kFloat8_e4m3fn);
      *linear.scale = meta_tensor(kept->second);
    }
  }
  const int64_t head_out = int64_t(c.out_dim) * c.patch_volume();
  w.head_modulation = meta_tensor({1, 2, dim});
  w.head_head_weight = meta_tensor({head_out, dim});
  w.head_head_bias = meta_tensor({head_out});
  return w;
}

void WanWeights::refuse_layer_quantization(const std::vector<std::shared_ptr<SafetensorsFile>>& files) {
  if (const std::string scale = layer_quantization_tensor(files); !scale.empty()) {
    throw WeightsError("Wan weights in " + checkpoint_file_list(files) + " are quantized per layer (" + scale +
                       "), which is not supported: use an fp16, bf16, fp32 or fp8_scaled checkpoint");
  }
}

void WanWeights::refuse_misfit_scales(const WanConfig& config,
                                      const std::vector<std::shared_ptr<SafetensorsFile>>& files) {
  const WanCheckpointIndex index = index_wan_checkpoint(files);
  std::vector<std::string> misfit;
  // The weights load() dequantises with a scale: those of the layout, stored in its shape and as
  // floats (load names the others for their shape or type).
  meta(config).for_each_tensor([&](const std::string& name, const at::Tensor& tensor, WeightPrecision) {
    if (!name.ends_with(".weight")) return;
    const auto weight = index.find(name);
    const auto scale = index.find(scale_name_of(name));
    if (weight == index.end() || scale == index.end()) return;
    const TensorEntry& entry = weight->second.entry();
    if (entry.shape != tensor.sizes().vec() || !weight_dtype_is_float(entry.dtype)) return;
    if (std::string line = misfit_scale(scale->second, name, tensor.size(0)); !line.empty()) {
      misfit.push_back(std::move(line));
    }
  });
  if (!misfit.empty()) {
    throw WeightsError("Wan weights in " + checkpoint_file_list(files) + " hold " +
                       counted_noun(misfit.size(), "scale", "scales") + " that no scaled fp8 checkpoint stores:" + tensor_problem_lines({}, misfit));
  }
}

namespace {

// Throws load()'s WeightsError for what does not fit `config`, if anything.
void refuse_unfit(const WanConfig& config, const std::vector<std::shared_ptr<SafetensorsFile>>& files,
                  const std::vector<std::string>& missing, const std::vector<std::string>& mismatched) {
  if (missing.empty() && mismatched.empty()) return;
  std::ostringstream os;
  os << "the diffusion model's weights in " << checkpoint_file_list(files) << " do not match the config (dim " << config.dim
     << ", " << config.num_layers << " layers, " << config.num_heads << " heads): "
     << counted_noun(missing.size(), "tensor", "tensors") << " missing, " << mismatched.size()
     << " with the wrong shape or type.";
  // Types alone (integer tensors) say a damaged or foreign file, not another size.
  const auto shape_line = [](const std::string& line) { return line.starts_with("wrong shape"); };
  const bool sizes_differ = !missing.empty() || std::any_of(mismatched.begin(), mismatched.end(), shape_line);
  if (sizes_differ) os << " Is this the checkpoint of another model size?";
  os << tensor_problem_lines(missing, mismatched);
  throw WeightsError(os.str());
}

// What load() reads, checked from the headers alone: the tensors by original name, the weights
// kept in e4m3, and the scales it makes (for weights quantised as they load; a plain e4m3
// weight's scale is 1 and made by neither).
struct LoadPlan {
  WanCheckpointIndex index;
  WanWeights::Fp8Scales fp8;
  std::set<std::string> made_scales;
};

LoadPlan plan_load(const WanConfig& config, const std::vector<std::shared_ptr<SafetensorsFile>>& files,
                   bool quantize_fp8) {
  WanWeights::refuse_layer_quantization(files);
  LoadPlan plan;
  plan.index = index_wan_checkpoint(files);
  // Blocks past the config's layers: the checkpoint of a deeper model, or a config that lost a
  // layer, would otherwise run on its first blocks alone without a word.
  int64_t blocks_held = 0;
  for (const auto& [name, stored] : plan.index) {
    if (name.starts_with("blocks.")) blocks_held = std::max<int64_t>(blocks_held, std::strtoll(name.c_str() + 7, nullptr, 10) + 1);
  }
  if (blocks_held > config.num_layers) {
    throw WeightsError("the diffusion model's weights in " + checkpoint_file_list(files) + " hold " +
                       std::to_string(blocks_held) + " blocks, but its config has " + std::to_string(config.num_layers) +
                       " layers (num_layers): is this the checkpoint of another model size?");
  }
  plan.fp8 = fp8_layout_in(config, plan.index, quantize_fp8);
  for (const auto& entry : plan.fp8) {
    const std::string& scale_name = entry.first;
    if (plan.index.contains(scale_name)) continue;
    const auto weight = plan.index.find(weight_name_of(scale_name));
    const bool plain = weight != plan.index.end() &&
                       weight->second.entry().dtype == WeightDtype::F8_E4M3;
    if (!plain) plan.made_scales.insert(scale_name);
  }

  std::vector<std::string> missing;
  std::vector<std::string> mismatched;
  WanWeights::meta(config, plan.fp8).for_each_tensor([&](const std::string& name, const at::Tensor& tensor,
                                                          WeightPrecision precision) {
    if (plan.made_scales.contains(name)) return;
    const bool kept_scale = name.ends_with(kScaleSuffix);  // held in fp8_scales' shape, which checked it
    const auto it = plan.index.find(name);
    if (it == plan.index.end()) {
      if (!kept_scale) missing.push_back(name);  // a scale absent here is a plain e4m3 weight's 1
      return;
    }
    const TensorEntry& entry = it->second.entry();
    const std::string where = " in " + it->second.file->path().string();
    if (entry.shape != tensor.sizes().vec() && !kept_scale) {
      mismatched.push_back("wrong shape: " + name + ": expected " + shape_string(tensor.sizes().vec()) + ", found " +
                           shape_string(entry.shape) + where);
      return;
    }
    if (!weight_dtype_is_float(entry.dtype)) {
      mismatched.push_back("wrong type: " + name + ": expected a floating-point tensor, found " +
                           weight_dtype_name(entry.dtype) + where);
      return;
    }
    // ComfyUI's scaled fp8 outside the blocks' linears: a scale beside the weight, dequantised as it loads.
    if (kept_scale || precision == WeightPrecision::Fp8 || !name.ends_with(".weight")) return;
    if (const auto scale = plan.index.find(scale_name_of(name)); scale != plan.index.end()) {
      if (std::string misfit = misfit_scale(scale->second, name, tensor.size(0)); !misfit.empty()) {
        mismatched.push_back(std::move(misfit));
      }
    }
  });
  refuse_unfit(config, files, missing, mismatched);
  return plan;
}

}  // namespace

void WanWeights::check_files(const WanConfig& config, const std::vector<std::shared_ptr<SafetensorsFile>>& files,
                             bool quantize_fp8) {
  (void)plan_load(config, files, quantize_fp8);
}

WanWeights WanWeights::load(const WanConfig& config, const std::vector<std::shared_ptr<SafetensorsFile>>& files,
                            at::Device device, at::ScalarType compute_dtype, const CancelToken* cancel,
                            bool quantize_fp8, LoadProgress* progress) {
  const LoadPlan plan = plan_load(config, files, quantize_fp8);  // before any tensor is read
  std::map<std::string, at::Tensor> made_scales;  // set after the visit
  for (const std::string& name : plan.made_scales) made_scales.emplace(name, at::Tensor());
  std::vector<std::string> infinite;  // scales that are no finite number, found as they load
  WanWeights w = meta(config, plan.fp8);
  w.for_each_tensor_mutable([&](const std::string& name, at::Tensor& tensor, WeightPrecision precision) {
    if (cancel) cancel->throw_if_cancelled();
    const std::vector<int64_t> expected = tensor.sizes().vec();
    tensor = at::Tensor();
    if (made_scales.contains(name)) return;
    const auto it = plan.index.find(name);
    if (it == plan.index.end()) {  // a plain e4m3 weight's scale (plan_load found the rest)
      tensor = at::ones({}, at::TensorOptions().device(device).dtype(at::kFloat));
      return;
    }
    const at::Tensor stored = it->second.file->load(it->second.stored_name);
    if (progress) progress->tensor_read(int64_t(stored.nbytes()));
    // A scale of infinity or NaN would make every product of its weight NaN, found only at step 1.
    const auto infinite_scale = [&](const at::Tensor& scale, const StoredTensor& where) {
      if (at::isfinite(scale).all().item<bool>()) return false;
      infinite.push_back("wrong scale: " + where.stored_name +
                         (files.size() > 1 ? " (in " + where.file->path().filename().string() + ")" : ""));
      return true;
    };
    if (name.ends_with(kScaleSuffix)) {
      if (!infinite_scale(stored, it->second)) tensor = stored.reshape(expected).to(device, at::kFloat);
      return;
    }
    if (precision == WeightPrecision::Fp8) {  // kept as stored, its scale beside it, or quantised here
      if (const auto made = made_scales.find(scale_name_of(name)); made != made_scales.end()) {
        std::tie(tensor, made->second) = quantized_fp8(stored.to(device));
      } else {
        tensor = stored.to(device);
      }
      return;
    }
    // ComfyUI's scaled fp8 (*_fp8_scaled) outside the blocks' linears: the weight stored as
    // e4m3(weight / scale) with its scale beside it as "<module>.scale_weight", dequantised here.
    const StoredTensor* scale = nullptr;
    if (name.ends_with(".weight")) {
      const auto found = plan.index.find(scale_name_of(name));
      if (found != plan.index.end()) scale = &found->second;
    }
    const at::ScalarType dtype = held_dtype(precision, compute_dtype);
    if (!scale) {
      tensor = stored.to(device, dtype);
      return;
    }
    const at::Tensor factor = scale->file->load(scale->stored_name);
    if (infinite_scale(factor, *scale)) return;
    // On `device`: e4m3 travels there at a byte per element (one `to(device, float)` would convert
    // on the host and copy four), and float32 is held for one tensor only.
    tensor = dequantized_fp8(stored.to(device), factor.to(device), dtype);
  });

  for (size_t i = 0; i < w.blocks.size(); ++i) {
    for (const WanBlockWeights::Linear& linear : w.blocks[i].linears()) {
      const auto made = made_scales.find(block_scale_name(i, linear.name));
      if (made != made_scales.end()) *linear.scale = made->second;
    }
  }
  if (!infinite.empty()) {
    throw WeightsError("the diffusion model's weights in " + checkpoint_file_list(files) + ": " +
                       (infinite.size() == 1 ? std::string("1 scale is not a finite number")
                                             : std::to_string(infinite.size()) + " scales are not finite numbers") +
                       " (infinity or NaN would make every product of its weight NaN): the file is damaged or was "
                       "quantised wrongly; download or copy it again." +
                       tensor_problem_lines({}, infinite, "not finite"));
  }
  return w;
}

void WanWeights::for_each_tensor(const ConstTensorVisitor& visit) const {
  visit_tensors(*this, visit);
}

void WanWeights::for_each_tensor_mutable(const TensorVisitor& visit) {
  visit_tensors(*this, visit);
}

std::vector<std::pair<std::string, at::Tensor>> WanWeights::state_dict() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for_each_tensor([&](const std::string& name, const at::Tensor& tensor, WeightPrecision) {
    out.emplace_back(name, tensor);
  });
  return out;
}

void WanWeights::keep_block_linears_in_fp8() {
  for (WanBlockWeights& b : blocks) {
    for (const WanBlockWeights::Linear& linear : b.linears()) {
      if (linear.weight->scalar_type() != at::kFloat8_e4m3fn) {  // not kept already
        std::tie(*linear.weight, *linear.scale) = quantized_fp8(*linear.weight);
      }
    }
  }
}

void WanWeights::to(at::Device device, at::ScalarType dtype) {
  for_each_tensor_mutable([&](const std::string&, at::Tensor& tensor, WeightPrecision precision) {
    tensor = tensor.to(device, held_dtype(precision, dtype));
  });
}

bool WanWeights::page_lock(at::Device gpu) {
  bool all = true;
  for_each_tensor_mutable([&](const std::string&, at::Tensor& tensor, WeightPrecision) {
    if (!tensor.device().is_cpu() || tensor.is_pinned()) return;
    at::Tensor locked = page_locked(tensor, gpu);
    if (locked.defined()) {
      tensor = std::move(locked);  // a copy, where one was needed, one tensor at a time
    } else {
      all = false;
    }
  });
  return all;
}

void WanWeights::swap_places(WanWeights& to_host, WanWeights& to_device, at::Device device, at::ScalarType dtype) {
  struct Slot {
    at::Tensor* tensor;
    at::ScalarType dtype;
  };
  const auto slots = [dtype](WanWeights& weights) {
    std::vector<Slot> out;
    weights.for_each_tensor_mutable([&](const std::string&, at::Tensor& tensor, WeightPrecision precision) {
      out.push_back({&tensor, held_dtype(precision, dtype)});
    });
    return out;
  };
  const std::vector<Slot> leaving = slots(to_host), arriving = slots(to_device);
  TORCH_CHECK(leaving.size() == arriving.size(), "swap_places needs two weights of one config");
  for (size_t i = 0; i < leaving.size(); ++i) {
    at::Tensor& out = *leaving[i].tensor;
    at::Tensor& in = *arriving[i].tensor;
    TORCH_CHECK(out.sizes() == in.sizes(), "swap_places needs two weights of one config");
    // A page-locked arriving tensor (page_lock) lends its memory to the leaving one: one copy in,
    // one copy out, nothing allocated on the host and both at the link's speed. The GPU holds one
    // tensor more meanwhile. `in` moves before its memory is overwritten, so a failure at either
    // copy leaves both tensors whole (the second on the GPU, where the next call's other path goes).
    if (!out.device().is_cpu() && in.device().is_cpu() && in.is_pinned() &&
        in.scalar_type() == leaving[i].dtype && out.scalar_type() == leaving[i].dtype) {
      at::Tensor host = in;
      in = host.to(device, arriving[i].dtype);
      host.copy_(out);
      out = std::move(host);
      continue;
    }
    out = out.to(at::kCPU, leaving[i].dtype);  // first: its memory serves the next
    in = in.to(device, arriving[i].dtype);
  }
}

}  // namespace svgear
