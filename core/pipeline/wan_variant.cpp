#include "core/pipeline/wan_variant.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/io/bounded_json.h"
#include "core/model/wan_checkpoint_index.h"
#include "core/user_error.h"
#include "core/weights/safetensors_file.h"

namespace svgear {
namespace {

constexpr int kWanHeadDim = 128;
constexpr int kImageToVideoChannels = 36;  // 16 noise + 4 mask + 16 image latent channels

// upstream wan/configs/shared_config.py, sample_neg_prompt
constexpr const char* kWanNegativePrompt =
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，"
    "低质量，JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，"
    "毁容的，形态畸形的肢体，手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走";

SamplingDefaults wan21_defaults() {
  SamplingDefaults d;
  d.sampler = SamplerKind::UniPC;
  d.steps = 50;
  d.guidance = 5.0;
  d.shift = 5.0;
  d.frames = 81;
  d.height = 480;
  d.width = 832;
  d.fps = 16.0;
  d.negative_prompt = kWanNegativePrompt;
  return d;
}

// upstream wan/configs/wan_ti2v_5B.py (sample_steps, sample_shift, sample_guide_scale, frame_num,
// sample_fps) and WanTI2V.t2v's size (1280, 704), which is (width, height); the negative prompt
// is the shared config's, as for Wan2.1.
SamplingDefaults wan22_ti2v_defaults() {
  SamplingDefaults d = wan21_defaults();
  d.frames = 121;
  d.height = 704;
  d.width = 1280;
  d.fps = 24.0;
  return d;
}

// upstream wan/configs/wan_t2v_A14B.py: sample_steps 40, sample_shift 12, sample_guide_scale
// (3.0, 4.0) for (low noise, high noise); frame_num and sample_fps from the shared config; its
// generate.py makes 1280×720 by default, the size the experts were trained for.
SamplingDefaults wan22_t2v_a14b_defaults() {
  SamplingDefaults d = wan21_defaults();
  d.steps = 40;
  d.shift = 12.0;
  d.guidance = 4.0;
  d.low_noise_guidance = 3.0;
  d.height = 720;
  d.width = 1280;
  return d;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << "]";
  return os.str();
}

// A size from a tensor's shape, as the DiT's int arithmetic takes it. Zero-byte tensors can claim
// any size: one past 2^20 (no Wan DiT comes near) is refused before the cast could wrap.
int dit_size(int64_t value, const std::string& what, const std::string& where) {
  constexpr int64_t kLargest = int64_t(1) << 20;
  if (value < 0 || value > kLargest) {
    throw UserError(where + ": " + what + " is " + std::to_string(value) +
                    ", which no Wan DiT has: the file is damaged or not a Wan DiT");
  }
  return int(value);
}

// Size `dim` of `name`, or 0 when the tensor is absent or too small (WanWeights::load then lists it).
int size_of(const TensorShapes& shapes, const std::string& name, size_t dim, const std::string& where) {
  auto it = shapes.find(name);
  if (it == shapes.end() || dim >= it->second.size()) return 0;
  return dit_size(it->second[dim], name + "'s size " + std::to_string(dim), where);
}

}  // namespace

TensorShapes wan_dit_shapes(const std::vector<std::shared_ptr<SafetensorsFile>>& files) {
  TensorShapes shapes;
  for (const auto& [name, stored] : index_wan_checkpoint(files)) shapes.emplace(name, stored.entry().shape);
  return shapes;
}

WanVariant detect_wan_variant(const TensorShapes& shapes, const WanConfigHints& hints,
                              const std::string& where) {
  auto patch = shapes.find("patch_embedding.weight");
  if (patch == shapes.end()) {
    throw UserError(where + " holds no Wan diffusion model: none of its tensors is "
                    "patch_embedding.weight");
  }
  const std::vector<int64_t>& p = patch->second;  // [dim, in_dim, patch_t, patch_h, patch_w]
  if (p.size() != 5) {
    throw UserError(where + ": patch_embedding.weight has shape " + shape_string(p) +
                    ", expected [dim, in_dim, 1, 2, 2] of a Wan DiT");
  }
  WanConfig c;
  c.dim = dit_size(p[0], "dim", where);
  c.in_dim = dit_size(p[1], "the input channels", where);
  c.patch_size = {dit_size(p[2], "the patch", where), dit_size(p[3], "the patch", where),
                  dit_size(p[4], "the patch", where)};
  const bool patch_fits = std::all_of(c.patch_size.begin(), c.patch_size.end(),
                                      [](int extent) { return extent >= 1 && extent <= WanConfig::kLargestPatch; });
  if (c.dim == 0 || c.in_dim == 0 || !patch_fits) {
    throw UserError(where + ": patch_embedding.weight has shape " + shape_string(p) +
                    ", which no Wan DiT has (expected [dim, in_dim, 1, 2, 2]): the file is damaged or not a Wan DiT");
  }
  c.num_layers = 0;
  while (shapes.contains("blocks." + std::to_string(c.num_layers) + ".self_attn.q.weight")) {
    if (++c.num_layers > kMaxWanLayers) {
      throw UserError(where + " holds more than " + std::to_string(kMaxWanLayers) +
                      " DiT blocks, more than any Wan model: the file is damaged");
    }
  }
  const std::string size = "dim " + std::to_string(c.dim) + ", " + std::to_string(c.num_layers) +
                           " layers, " + std::to_string(c.in_dim) + " input channels";

  if (shapes.contains("img_emb.proj.0.weight") || c.in_dim == kImageToVideoChannels) {
    throw UserError(where + " is an image-to-video Wan model (" + size +
                    "), which is not supported: use a text-to-video (T2V) model such as "
                    "wan2.1_t2v_1.3B_bf16.safetensors");
  }
  // A text-to-video DiT predicts the latent it reads. More channels in than out are conditions laid
  // beside the latent (Fun-Control's control video, inpainting's mask and image): 48 of them would
  // otherwise pass for Wan2.2's latent width. (Fewer in than out: the folder check names the VAE
  // the head does not fit.)
  const int head_out = size_of(shapes, "head.head.weight", 0, where);
  const int64_t patch_volume = c.patch_volume();
  if (head_out > 0 && head_out % patch_volume == 0 && head_out / patch_volume < c.in_dim) {
    throw UserError(where + " is a conditioned Wan model (" + size + ", " + std::to_string(head_out / patch_volume) +
                    " output channels: control or inpainting inputs beside the latent), which is not "
                    "supported: use a text-to-video (T2V) model such as wan2.1_t2v_1.3B_bf16.safetensors");
  }
  // Add-ons that feed the blocks what this studio cannot make (audio, a face, a control or VACE video).
  for (const char* addon : {"audio_injector.", "face_adapter.", "face_encoder.", "motion_encoder.",
                            "control_adapter.", "vace_blocks.", "vace_patch_embedding."}) {
    const auto it = shapes.lower_bound(addon);
    if (it != shapes.end() && it->first.starts_with(addon)) {
      throw UserError(where + " is a Wan model with an add-on (" + it->first + ") that needs inputs other than "
                      "a prompt, which is not supported: use a text-to-video (T2V) model such as "
                      "wan2.1_t2v_1.3B_bf16.safetensors");
    }
  }
  if (c.in_dim != kWan21LatentChannels && c.in_dim != kWan22LatentChannels) {
    throw UserError(where + ": a Wan diffusion model with " + std::to_string(c.in_dim) +
                    " input channels (" + size + ") is not supported; only the 16 latent "
                    "channels of the Wan 2.1 VAE and the 48 of the Wan 2.2 VAE (Wan2.2-TI2V-5B) are");
  }
  if (c.num_layers == 0) {
    throw UserError(where + ": no transformer blocks (blocks.0.self_attn.q.weight is missing); "
                    "the file is incomplete or not a Wan DiT");
  }

  // The sizes read from these tensors: one absent is named as missing, one present in a shape no
  // Wan DiT has is named with its shape.
  const auto size_from = [&](const std::string& name, size_t dim, const std::string& expected) {
    const auto it = shapes.find(name);
    if (it == shapes.end()) {
      throw UserError(where + ": the DiT (" + size + ") lacks " + name + "; the file is incomplete");
    }
    const int value = size_of(shapes, name, dim, where);
    if (value == 0) {
      throw UserError(where + ": " + name + " has shape " + shape_string(it->second) +
                      ", which no Wan DiT has (expected " + expected + "): the file is damaged or not a Wan DiT");
    }
    return value;
  };
  c.ffn_dim = size_from("blocks.0.ffn.0.weight", 0, "[ffn_dim, dim]");
  c.freq_dim = size_from("time_embedding.0.weight", 1, "[dim, freq_dim]");
  c.text_dim = size_from("text_embedding.0.weight", 1, "[dim, text_dim]");
  const std::string head_shape = "[out_dim × " + std::to_string(patch_volume) + " (the patch), dim]";
  if (size_from("head.head.weight", 0, head_shape) % patch_volume != 0) {
    throw UserError(where + ": head.head.weight has shape " + shape_string(shapes.at("head.head.weight")) +
                    ", which no Wan DiT has (expected " + head_shape + "): the file is damaged or not a Wan DiT");
  }
  c.out_dim = int(head_out / patch_volume);
  c.qk_norm = shapes.contains("blocks.0.self_attn.norm_q.weight");
  c.cross_attn_norm = shapes.contains("blocks.0.norm3.weight");
  c.num_heads = hints.num_heads.value_or(c.dim / kWanHeadDim);
  c.text_len = hints.text_len.value_or(c.text_len);
  if (c.num_heads <= 0 || c.dim % c.num_heads != 0 || (c.dim / c.num_heads) % 2 != 0) {
    throw UserError(where + ": " + std::to_string(c.num_heads) + " attention heads do not divide dim " +
                    std::to_string(c.dim) + " into even head widths; " +
                    (!hints.num_heads_from.empty() ? "fix " + hints.num_heads_from
                     : hints.config.empty()        ? std::string("give num_heads in the folder's config.json")
                                                   : "give num_heads in " + hints.config.string()));
  }
  // The rest of what a model.json's dit must satisfy (positive sizes, an even freq_dim, …): these
  // sizes come from tensors' shapes, which a damaged file can set to anything.
  try {
    WanConfig::from_json(c.to_json());
  } catch (const UserError& e) {
    throw UserError(where + ": the DiT's tensors give an impossible configuration (" + size + "): " + e.what());
  }

  WanVariant v;
  v.config = c;
  if (c.in_dim == kWan22LatentChannels) {
    // Wan2.2-TI2V-5B's text-to-video path is the Wan2.1 DiT: upstream gives every token its own
    // timestep (t of shape [B, seq_len]), but for text-to-video they are all the step's t.
    v.vae_version = WanVaeVersion::Wan22;
    v.defaults = wan22_ti2v_defaults();
    if (c.dim == 3072 && c.num_layers == 30) {
      v.name = "Wan2.2-TI2V-5B";
      v.max_pixels = 1280 * 704;
    } else {
      v.name = "Wan2.2-TI2V-architecture DiT (" + size + ")";
    }
    return v;
  }
  v.vae_version = WanVaeVersion::Wan21;
  v.defaults = wan21_defaults();
  if (c.dim == 1536 && c.num_layers == 30) {
    v.name = "Wan2.1-T2V-1.3B";
    v.max_pixels = 832 * 480;
  } else if (c.dim == 5120 && c.num_layers == 40) {
    v.name = "Wan2.1-T2V-14B";
    v.max_pixels = 1280 * 720;
  } else {
    v.name = "Wan2.1-architecture DiT (" + size + ")";
  }
  return v;
}

WanVariant pair_wan_experts(const WanVariant& high_noise, const WanVariant& low_noise, const std::string& high_where,
                            const std::string& low_where) {
  const auto require_wan21_latents = [](const WanVariant& variant, const std::string& where) {
    if (variant.vae_version != WanVaeVersion::Wan21) {
      throw UserError(where + " (" + variant.name + ") is not an expert of Wan2.2-A14B: a pair of experts works "
                      "on the 16 latent channels of the Wan 2.1 VAE");
    }
  };
  require_wan21_latents(high_noise, high_where);
  require_wan21_latents(low_noise, low_where);
  if (high_noise.config.to_json() != low_noise.config.to_json()) {
    throw UserError("the two experts differ: " + high_where + " is " + high_noise.name + " (" +
                    high_noise.config.to_json().dump() + "), " + low_where + " is " + low_noise.name + " (" +
                    low_noise.config.to_json().dump() + "). Use the high-noise and the low-noise model of one release");
  }
  // A pair samples as A14B does whatever its size (the experts' boundary and guidances come from
  // it); another size was not trained for A14B's frame area, so none is enforced.
  WanVariant v = high_noise;
  v.defaults = wan22_t2v_a14b_defaults();
  if (v.name == "Wan2.1-T2V-14B") {
    v.name = "Wan2.2-T2V-A14B";
  } else {
    v.name += ", a pair of experts";
    v.max_pixels = 0;
  }
  return v;
}

WanConfigHints read_wan_config_hints(const std::filesystem::path& path) {
  WanConfigHints hints;
  hints.config = path;
  require_regular_file(path, "a Wan folder's config.json");  // the studio's model scan reads it
  std::ifstream in(path);
  if (!in) return hints;
  nlohmann::json j;
  try {
    j = parse_bounded_json(in);
  } catch (const nlohmann::json::exception& e) {
    throw UserError(path.string() + " is not valid JSON: " + json_error_text(e));
  }
  auto positive = [&](const char* key) -> std::optional<int> {
    auto it = j.find(key);
    if (it == j.end()) return std::nullopt;
    if (!it->is_number_integer() || it->get<int64_t>() <= 0 || it->get<int64_t>() > (1 << 20)) {
      throw UserError(path.string() + ": '" + key + "' must be a whole number from 1 to " + std::to_string(1 << 20) +
                      ", got " + it->dump());
    }
    return it->get<int>();
  };
  if (!j.is_object()) throw UserError(path.string() + ": expected a JSON object");
  for (const char* key : {"num_heads", "num_attention_heads"}) {  // original WanModel, then Diffusers
    if (hints.num_heads) break;
    hints.num_heads = positive(key);
    if (hints.num_heads) hints.num_heads_from = std::string("'") + key + "' in " + path.string();
  }
  hints.text_len = positive("text_len");
  // Wan reads 512 text tokens; umT5 builds [heads, L, L] position biases, so a length of a million
  // would fail at the first long prompt, past the step-memory check, which does not count them.
  constexpr int kMaxTextLen = 4096;
  if (hints.text_len && *hints.text_len > kMaxTextLen) {
    throw UserError(path.string() + ": 'text_len' " + std::to_string(*hints.text_len) + " is past " +
                    std::to_string(kMaxTextLen) + " (Wan's is 512)");
  }
  return hints;
}

}  // namespace svgear
