// The Wan variant comes from tensor names and shapes (either layout); its defaults and size rules
// reach GenerationRequest::resolve; the GPU memory check's estimate and message.

#include "core/pipeline/wan_variant.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <tuple>

#include "core/decoder/wan_vae_weight_names.h"
#include "core/model/wan_weight_names.h"
#include "core/model/wan_weights.h"
#include "core/pipeline/generation_request.h"
#include "core/pipeline/weight_memory.h"
#include "core/user_error.h"
#include "core/weights/safetensors_file.h"
#include "core/weights/safetensors_writer.h"
#include "tests/decoder/tiny_wan22_vae.h"
#include "tests/model/tiny_wan.h"
#include "tests/support/test_paths.h"
#include "tests/text/tiny_umt5.h"

namespace svgear {
namespace {

using test::contains;

// The shapes a checkpoint of `config` holds, in original or Diffusers names (meta tensors: no memory).
TensorShapes shapes_of(const WanConfig& config, bool diffusers = false) {
  TensorShapes shapes;
  WanWeights::meta(config).for_each_tensor([&](const std::string& name, const at::Tensor& t, WeightPrecision) {
    shapes[diffusers ? wan_diffusers_name(name) : name] = t.sizes().vec();
  });
  if (!diffusers) return shapes;
  TensorShapes renamed;  // as wan_dit_shapes returns them
  for (auto& [name, shape] : shapes) renamed[wan_original_name(name)] = shape;
  return renamed;
}

WanConfig wan14b() {
  WanConfig c;
  c.dim = 5120;
  c.ffn_dim = 13824;
  c.num_heads = 40;
  c.num_layers = 40;
  return c;
}

std::string detect_error(const TensorShapes& shapes) {
  try {
    detect_wan_variant(shapes, {}, "model.safetensors");
  } catch (const UserError& e) {
    return e.what();
  }
  ADD_FAILURE() << "detected";
  return "";
}

// The shapes come from the index the load reads: the wrapper prefix stripped, a bundled VAE's tensor
// left out, and a tensor two shards hold refused here, before any weight loads.
TEST(WanVariant, ShapesAreReadThroughTheCheckpointIndex) {
  const auto dir = test::scratch_dir("wan_variant_index");
  std::vector<std::pair<std::string, at::Tensor>> blocks, rest;
  for (auto& [name, tensor] : test::tiny_wan_weights().state_dict()) {
    (name.starts_with("blocks.") ? blocks : rest).emplace_back("model.diffusion_model." + name, tensor);
  }
  rest.emplace_back("vae.decoder.conv_in.weight", at::zeros({4, 4}));
  write_safetensors(dir / "one.safetensors", rest);
  write_safetensors(dir / "two.safetensors", blocks);
  const std::vector<std::shared_ptr<SafetensorsFile>> files = {SafetensorsFile::open(dir / "one.safetensors"),
                                                               SafetensorsFile::open(dir / "two.safetensors")};
  EXPECT_EQ(wan_dit_shapes(files), shapes_of(test::tiny_wan_config()));

  rest.push_back(blocks.front());
  write_safetensors(dir / "one.safetensors", rest);
  try {
    wan_dit_shapes({SafetensorsFile::open(dir / "one.safetensors"), SafetensorsFile::open(dir / "two.safetensors")});
    ADD_FAILURE() << "read a tensor found twice";
  } catch (const WeightsError& e) {
    EXPECT_TRUE(contains(e.what(), "'" + blocks.front().first + "' is in both")) << e.what();
    EXPECT_TRUE(contains(e.what(), "one.safetensors") && contains(e.what(), "two.safetensors")) << e.what();
  }
}

// The prefix is the one the embedding and the blocks share: an add-on's "vace_patch_embedding.weight"
// read first is no anchor, and a file whose embedding and blocks sit under different prefixes is named
// as edited wrong (it read as "no transformer blocks").
TEST(WanVariant, TheWrapperPrefixIsTheOneTheEmbeddingAndBlocksShare) {
  const auto dir = test::scratch_dir("wan_variant_prefix");
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (auto& [name, tensor] : test::tiny_wan_weights().state_dict()) {
    tensors.emplace_back("model.diffusion_model." + name, tensor);
  }
  auto with_addon = tensors;
  with_addon.insert(with_addon.begin(), {"model.diffusion_model.vace_patch_embedding.weight", at::zeros({4, 4})});
  write_safetensors(dir / "vace.safetensors", with_addon);
  const TensorShapes shapes = wan_dit_shapes({SafetensorsFile::open(dir / "vace.safetensors")});
  EXPECT_EQ(shapes.at("patch_embedding.weight"), shapes_of(test::tiny_wan_config()).at("patch_embedding.weight"));
  EXPECT_TRUE(shapes.contains("vace_patch_embedding.weight"));
  EXPECT_TRUE(shapes.contains("blocks.0.self_attn.q.weight"));

  for (auto& [name, tensor] : tensors) {
    if (name.ends_with(".patch_embedding.weight")) name = "patch_embedding.weight";
  }
  write_safetensors(dir / "mixed.safetensors", tensors);
  try {
    wan_dit_shapes({SafetensorsFile::open(dir / "mixed.safetensors")});
    ADD_FAILURE() << "read a DiT whose embedding and blocks have different prefixes";
  } catch (const WeightsError& e) {
    const std::string message = e.what();
    EXPECT_TRUE(contains(message, "mixed.safetensors")) << message;
    EXPECT_TRUE(contains(message, "patch_embedding.weight has no prefix and its transformer blocks have the prefix "
                                  "'model.diffusion_model.' (model.diffusion_model.blocks.0.self_attn.q.weight)"))
        << message;
    EXPECT_TRUE(contains(message, "edited or merged wrong")) << message;
  }
}

TEST(WanVariant, ReleasedSizesAreRecognisedFromShapes) {
  const WanVariant small = detect_wan_variant(shapes_of(WanConfig{}), {}, "x");
  EXPECT_EQ(small.name, "Wan2.1-T2V-1.3B");
  EXPECT_EQ(small.config.num_heads, 12);
  EXPECT_EQ(small.config.ffn_dim, 8960);
  EXPECT_EQ(small.config.text_len, 512);
  EXPECT_EQ(small.max_pixels, 832 * 480);
  EXPECT_EQ(small.defaults.steps, 50);
  EXPECT_EQ(small.defaults.shift, 5.0);
  EXPECT_EQ(small.defaults.guidance, 5.0);
  EXPECT_EQ(small.defaults.frames, 81);
  EXPECT_EQ(small.defaults.fps, 16.0);
  EXPECT_EQ(small.defaults.height, 480);
  EXPECT_EQ(small.defaults.width, 832);
  EXPECT_FALSE(small.defaults.negative_prompt.empty());

  const WanVariant big = detect_wan_variant(shapes_of(wan14b(), /*diffusers=*/true), {}, "x");
  EXPECT_EQ(big.name, "Wan2.1-T2V-14B");
  EXPECT_EQ(big.config.num_heads, 40);
  EXPECT_EQ(big.config.ffn_dim, 13824);
  EXPECT_TRUE(big.config.qk_norm);
  EXPECT_TRUE(big.config.cross_attn_norm);
  EXPECT_EQ(big.max_pixels, 1280 * 720);
}

// upstream wan/configs/wan_ti2v_5B.py: dim 3072, ffn 14336, 24 heads, 30 layers, in/out 48.
WanConfig wan22_ti2v_5b() {
  WanConfig c;
  c.dim = 3072;
  c.ffn_dim = 14336;
  c.num_heads = 24;
  c.num_layers = 30;
  c.in_dim = 48;
  c.out_dim = 48;
  return c;
}

TEST(WanVariant, Ti2v5bIsRecognisedWithItsDefaultsAndTheWan22Vae) {
  const WanVariant v = detect_wan_variant(shapes_of(wan22_ti2v_5b()), {}, "x");
  EXPECT_EQ(v.name, "Wan2.2-TI2V-5B");
  EXPECT_EQ(v.vae_version, WanVaeVersion::Wan22);
  EXPECT_EQ(v.config.num_heads, 24);  // dim / 128
  EXPECT_EQ(v.config.ffn_dim, 14336);
  EXPECT_EQ(v.config.in_dim, 48);
  EXPECT_EQ(v.config.out_dim, 48);
  EXPECT_EQ(v.max_pixels, 1280 * 704);
  EXPECT_EQ(v.defaults.sampler, SamplerKind::UniPC);
  EXPECT_EQ(v.defaults.steps, 50);
  EXPECT_EQ(v.defaults.shift, 5.0);
  EXPECT_EQ(v.defaults.guidance, 5.0);
  EXPECT_EQ(v.defaults.frames, 121);
  EXPECT_EQ(v.defaults.fps, 24.0);
  EXPECT_EQ(v.defaults.height, 704);
  EXPECT_EQ(v.defaults.width, 1280);
  EXPECT_EQ(v.defaults.negative_prompt, detect_wan_variant(shapes_of(WanConfig{}), {}, "x").defaults.negative_prompt);
  EXPECT_EQ(detect_wan_variant(shapes_of(WanConfig{}), {}, "x").vae_version, WanVaeVersion::Wan21);

  WanConfig other = wan22_ti2v_5b();
  other.num_layers = 2;
  EXPECT_EQ(detect_wan_variant(shapes_of(other), {}, "x").name,
            "Wan2.2-TI2V-architecture DiT (dim 3072, 2 layers, 48 input channels)");
}

TEST(WanVariant, ModelsWeCannotRunAreRefusedWithTheReason) {
  WanConfig i2v = wan14b();
  i2v.in_dim = 36;
  std::string error = detect_error(shapes_of(i2v));
  EXPECT_TRUE(contains(error, "image-to-video"));

  WanConfig odd;
  odd.in_dim = 20;
  odd.out_dim = 20;
  error = detect_error(shapes_of(odd));
  EXPECT_TRUE(contains(error, "20 input channels"));
  EXPECT_TRUE(contains(error, "the 48 of the Wan 2.2 VAE (Wan2.2-TI2V-5B)"));

  EXPECT_TRUE(contains(detect_error({{"decoder.conv1.weight", {384, 16, 3, 3, 3}}}), "no Wan diffusion model"));

  // Fun-Control: 48 channels in (latent and control video), 16 out; not Wan2.2's 48-channel latent.
  WanConfig control;
  control.in_dim = 48;
  error = detect_error(shapes_of(control));
  EXPECT_TRUE(contains(error, "conditioned Wan model (dim 1536, 30 layers, 48 input channels, 16 output channels"))
      << error;

  // A damaged file's patch embedding: a zero-sized patch (no division by zero), one whose volume
  // overflows an int, a zero dim; each refused for what it is.
  for (const std::vector<int64_t>& shape : std::vector<std::vector<int64_t>>{
           {1536, 16, 0, 2, 2}, {0, 16, 2048, 2048, 2048}, {1536, 16, 1, 65, 2}, {0, 16, 1, 2, 2}}) {
    TensorShapes damaged = shapes_of(WanConfig{});
    damaged["patch_embedding.weight"] = shape;
    error = detect_error(damaged);
    EXPECT_TRUE(contains(error, "which no Wan DiT has (expected [dim, in_dim, 1, 2, 2])")) << error;
  }

  // A tensor the sizes come from: absent, it is named as missing; present in a shape no Wan DiT
  // has, it is named with that shape (both read as "lacks … or …" before).
  TensorShapes without_head = shapes_of(WanConfig{});
  without_head.erase("time_embedding.0.weight");
  error = detect_error(without_head);
  EXPECT_TRUE(contains(error, "the DiT (dim 1536, 30 layers, 16 input channels) lacks time_embedding.0.weight; "
                              "the file is incomplete"))
      << error;
  for (const auto& [name, shape, expected] :
       {std::tuple{"head.head.weight", std::vector<int64_t>{0, 1536}, "[out_dim × 4 (the patch), dim]"},
        std::tuple{"head.head.weight", std::vector<int64_t>{63, 1536}, "[out_dim × 4 (the patch), dim]"},
        std::tuple{"text_embedding.0.weight", std::vector<int64_t>{1536}, "[dim, text_dim]"},
        std::tuple{"blocks.0.ffn.0.weight", std::vector<int64_t>{0, 1536}, "[ffn_dim, dim]"}}) {
    TensorShapes damaged = shapes_of(WanConfig{});
    damaged[name] = shape;
    error = detect_error(damaged);
    const std::string shown = shape.size() == 1 ? "[1536]" : "[" + std::to_string(shape[0]) + ", 1536]";
    EXPECT_TRUE(contains(error, std::string(name) + " has shape " + shown + ", which no Wan DiT has (expected " +
                                    expected + ")"))
        << error;
  }

  // A speech-to-video model's audio injector beside an otherwise text-to-video DiT.
  for (const char* addon : {"audio_injector.injector.0.q.weight", "vace_blocks.0.before_proj.weight"}) {
    TensorShapes shapes = shapes_of(WanConfig{});
    shapes[addon] = {1536, 1536};
    error = detect_error(shapes);
    EXPECT_TRUE(contains(error, std::string("with an add-on (") + addon + ")")) << error;
  }
}

TEST(WanVariant, ConfigJsonGivesTheHeadsShapesCannot) {
  const TensorShapes shapes = shapes_of(WanConfig{});
  WanConfigHints hints;
  hints.num_heads = 7;  // 1536 / 7 is not whole
  try {
    detect_wan_variant(shapes, hints, "x");
    ADD_FAILURE();
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), "7 attention heads do not divide dim 1536"));
  }
  hints.num_heads = 24;
  hints.text_len = 256;
  const WanVariant v = detect_wan_variant(shapes, hints, "x");
  EXPECT_EQ(v.config.num_heads, 24);
  EXPECT_EQ(v.config.text_len, 256);
}

// A config.json's text_len is bounded: umT5's position biases grow with its square.
TEST(WanVariant, ConfigJsonTextLenIsBounded) {
  const auto dir = test::scratch_dir("wan_config_text_len");
  std::ofstream(dir / "config.json") << R"({"num_heads": 12, "text_len": 4096})";
  EXPECT_EQ(read_wan_config_hints(dir / "config.json").text_len, 4096);
  std::ofstream(dir / "config.json") << R"({"num_heads": 12, "text_len": 4097})";
  try {
    read_wan_config_hints(dir / "config.json");
    ADD_FAILURE();
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), "'text_len' 4097 is past 4096")) << e.what();
  }
}

ModelManifest wan_manifest(const WanConfig& config) {
  const WanVariant v = detect_wan_variant(shapes_of(config), {}, "x");
  ModelManifest m;
  m.name = v.name;
  m.dit = v.config;
  m.defaults = v.defaults;
  m.max_pixels = v.max_pixels;
  m.temporal_factor = 4;
  m.spatial_factor = v.vae_version == WanVaeVersion::Wan22 ? 16 : 8;  // as read_wan_manifest gets it from the VAE
  return m;
}

std::string resolve_error(const GenerationRequest& r, const ModelManifest& m) {
  try {
    r.resolve(m);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(WanVariant, FramesAndSizesFollowTheVaeAndThePatch) {
  const ModelManifest small = wan_manifest(WanConfig{});
  GenerationRequest r;
  r.prompt = "x";
  const GenerationRequest resolved = r.resolve(small);
  EXPECT_EQ(*resolved.frames, 81);
  EXPECT_EQ(*resolved.height, 480);
  EXPECT_EQ(*resolved.width, 832);
  EXPECT_EQ(*resolved.steps, 50);

  r.frames = 80;
  EXPECT_TRUE(contains(resolve_error(r, small), "makes 4n + 1 frames"));
  EXPECT_TRUE(contains(resolve_error(r, small), "try 77 or 81"));
  // A DiT that patches 2 latent frames at a time takes an even number of them (9 frames make 3).
  WanConfig two_frames;
  two_frames.patch_size = {2, 2, 2};
  r.frames = 9;
  EXPECT_TRUE(contains(resolve_error(r, wan_manifest(two_frames)),
                       "patches 2 latent frames at a time, and a 9-frame clip makes 3: try 5 or 13"));
  r.frames = 1;
  EXPECT_TRUE(contains(resolve_error(r, wan_manifest(two_frames)), "a 1-frame clip makes 1: try 5"));
  r.frames = 13;
  EXPECT_EQ(resolve_error(r, wan_manifest(two_frames)), "");
  r.frames = 81;
  r.height = 500;
  EXPECT_TRUE(contains(resolve_error(r, small), "height 500 is not a multiple of 16 (VAE 8 × patch 2): try 496 or 512"));
  r.height = 720;
  r.width = 1280;
  EXPECT_TRUE(contains(resolve_error(r, small), "1280×720 needs Wan2.1-T2V-14B"));
  r.height = 832;  // portrait 480p is fine
  r.width = 480;
  EXPECT_EQ(resolve_error(r, small), "");
  r.height = 720;
  r.width = 1280;
  EXPECT_EQ(resolve_error(r, wan_manifest(wan14b())), "");

  // Wan2.2-TI2V-5B: 16 pixels per latent cell × patch 2, at most 1280×704 pixels
  const ModelManifest ti2v = wan_manifest(wan22_ti2v_5b());
  GenerationRequest t;
  t.prompt = "x";
  const GenerationRequest defaults = t.resolve(ti2v);
  EXPECT_EQ(*defaults.frames, 121);
  EXPECT_EQ(*defaults.height, 704);
  EXPECT_EQ(*defaults.width, 1280);
  EXPECT_EQ(*defaults.fps, 24.0);
  t.height = 720;
  EXPECT_TRUE(contains(resolve_error(t, ti2v),
                       "height 720 is not a multiple of 32 (VAE 16 × patch 2): try 704 or 736"));
  t.height = 1280;  // portrait
  t.width = 704;
  EXPECT_EQ(resolve_error(t, ti2v), "");
  t.height = 480;   // smaller sizes in steps of 32
  t.width = 832;
  EXPECT_EQ(resolve_error(t, ti2v), "");
  t.height = 768;
  t.width = 1344;
  const std::string too_big = resolve_error(t, ti2v);
  EXPECT_TRUE(contains(too_big, "Wan2.2-TI2V-5B is made for frames of at most 901120 pixels"));
  EXPECT_FALSE(contains(too_big, "needs Wan2.1-T2V-14B"));
}

TEST(WeightMemory, EstimateAndShortfallMessage) {
  // Wan2.1-1.3B: 1.42e9 parameters; bf16 matmuls, fp32 norms/modulation/embeddings/head.
  const double gib = double(int64_t(1) << 30);
  const double dit = double(wan_dit_bytes(WanConfig{}, at::kBFloat16)) / gib;
  EXPECT_GT(dit, 2.5);
  EXPECT_LT(dit, 3.0);
  EXPECT_NEAR(double(wan_dit_bytes(wan14b(), at::kBFloat16)) / gib, 26.6, 0.6);
  const double ti2v = double(wan_dit_bytes(wan22_ti2v_5b(), at::kBFloat16)) / gib;
  std::cout << "[ measured ] Wan2.2-TI2V-5B DiT weights on the GPU: " << ti2v << " GiB\n";
  EXPECT_GT(ti2v, 9.0);  // 5.0e9 parameters, most in bf16
  EXPECT_LT(ti2v, 10.5);
  // A scaled fp8 14B (ComfyUI's *_fp8_scaled): the blocks' ten linears in e4m3, a float32 scale each.
  const WanConfig big = wan14b();
  WanWeights::Fp8Scales fp8;
  for (int i = 0; i < big.num_layers; ++i) {
    for (const char* linear : {"self_attn.q", "self_attn.k", "self_attn.v", "self_attn.o", "cross_attn.q",
                               "cross_attn.k", "cross_attn.v", "cross_attn.o", "ffn.0", "ffn.2"}) {
      fp8["blocks." + std::to_string(i) + "." + linear + ".scale_weight"] = {};
    }
  }
  const int64_t linears = int64_t(big.num_layers) * (8 * big.dim * big.dim + 2 * big.dim * big.ffn_dim);
  EXPECT_EQ(wan_dit_bytes(big, at::kBFloat16) - wan_dit_bytes(big, at::kBFloat16, fp8),
            linears - 4 * int64_t(fp8.size()));
  std::cout << "[ measured ] Wan 14B scaled fp8 DiT on the GPU: " << double(wan_dit_bytes(big, at::kBFloat16, fp8)) / gib
            << " GiB\n";
  EXPECT_EQ(umt5_bytes({test::tiny_umt5_weights_path()}, at::kBFloat16),
            2 * (300 * 64 + 2 * (64 + 4 * 64 * 64 + 64 + 3 * 128 * 64 + 32 * 4) + 64));

  WeightBytes needed;
  needed.dit = int64_t(27) << 30;
  needed.text_encoder = int64_t(11) << 30;
  EXPECT_EQ(memory_shortfall(needed, int64_t(40) << 30, "cuda:0"), "");
  const std::string message = memory_shortfall(needed, int64_t(30) << 30, "cuda:0");
  EXPECT_TRUE(contains(message, "not enough memory on cuda:0: the weights alone need about 38.0 GiB "
                                "(diffusion model 27.0 GiB, text encoder 11.0 GiB) but 30.0 GiB are free"));
  EXPECT_TRUE(contains(message, "--text-encoder-device cpu"));
  EXPECT_TRUE(contains(message, "Diffusion model in fp8 (--dit-fp8) about halves its weights")) << message;
  needed.dit_in_fp8 = true;  // nothing left to halve
  EXPECT_FALSE(contains(memory_shortfall(needed, int64_t(30) << 30, "cuda:0"), "--dit-fp8"));
  // On the host (a CPU run: its DiT in float32), the load is refused instead of killed by the OOM
  // killer, with what keeps the DiT off the host.
  WeightBytes host;
  host.dit = int64_t(19) << 30;
  host.text_encoder = int64_t(11) << 30;
  const std::string on_host = memory_shortfall(host, int64_t(16) << 30, "cpu");
  EXPECT_TRUE(contains(on_host, "not enough memory on the CPU: the weights alone need about 30.0 GiB (diffusion "
                                "model 19.0 GiB, text encoder 11.0 GiB) but 16.0 GiB are available"))
      << on_host;
  EXPECT_TRUE(contains(on_host, "--device cuda")) << on_host;
  EXPECT_FALSE(contains(on_host, "--text-encoder-device cpu")) << on_host;
  EXPECT_TRUE(contains(on_host, "Diffusion model in fp8 (--dit-fp8) makes its weights smaller")) << on_host;
  // Wan2.2-A14B's two experts on a GPU: counted as the diffusion model, and the idle expert named.
  WeightBytes pair;
  pair.dit = pair.second_expert = int64_t(27) << 30;
  const std::string pair_message = memory_shortfall(pair, int64_t(40) << 30, "cuda:0");
  EXPECT_TRUE(contains(pair_message, "(diffusion model 54.0 GiB)")) << pair_message;
  EXPECT_TRUE(contains(pair_message, "Idle expert on the CPU (--idle-expert-on-cpu)")) << pair_message;
  // Wan2.2-A14B's idle expert waiting in host memory: counted, and the way out is to keep it on the
  // GPU, not to run the DiT there (it does).
  WeightBytes idle;
  idle.idle_expert = int64_t(27) << 30;
  const std::string idle_message = memory_shortfall(idle, int64_t(16) << 30, "cpu");
  EXPECT_TRUE(contains(idle_message, "(idle expert 27.0 GiB)")) << idle_message;
  EXPECT_TRUE(contains(idle_message, "--idle-expert-on-cpu, off")) << idle_message;
  EXPECT_FALSE(contains(idle_message, "--device cuda")) << idle_message;
}

// What the memory checks count for a DiT in fp8 (fp8_layout through wan_dit_bytes) is what the load
// then holds: a scaled, a plain and a quantised-here linear among wide ones, in float32 and bf16.
TEST(WeightMemory, Fp8LayoutCountsWhatTheLoadHolds) {
  const WanConfig config = test::tiny_wan_config();
  std::vector<std::pair<std::string, at::Tensor>> tensors = test::tiny_wan_weights().state_dict();
  for (auto& [name, tensor] : tensors) {
    if (name == "blocks.0.ffn.0.weight" || name == "blocks.1.self_attn.v.weight") {
      tensor = tensor.to(at::kFloat8_e4m3fn);
    }
  }
  tensors.emplace_back("blocks.0.ffn.0.scale_weight", at::full({config.ffn_dim}, 0.01));
  const auto path = test::scratch_dir("fp8_bytes") / "dit.safetensors";
  write_safetensors(path, tensors);
  const std::vector<std::shared_ptr<SafetensorsFile>> files{SafetensorsFile::open(path)};
  for (const at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
    for (bool quantize : {false, true}) {
      SCOPED_TRACE(std::string(c10::toString(dtype)) + (quantize ? ", quantised" : ""));
      const WanWeights w = WanWeights::load(config, files, at::Device(at::kCPU), dtype, nullptr, quantize);
      int64_t held = 0;
      w.for_each_tensor([&](const std::string&, const at::Tensor& t, WeightPrecision) { held += t.nbytes(); });
      EXPECT_EQ(wan_dit_bytes(config, dtype, WanWeights::fp8_layout(config, files, quantize)), held);
    }
  }
}

// During a generation, what frees the DiT's GPU besides a smaller request: the text encoder's place
// where it shares the GPU (only the CPU once it is freed after encoding: a new prompt brings it
// back), the VAE's where it decodes there, and fp8 for a DiT not in fp8 yet.
TEST(WeightMemory, GpuRemediesNameOnlyThePartsThatShareTheGpu) {
  WeightBytes beside;
  beside.dit = int64_t(27) << 30;
  const std::vector<std::string> alone = gpu_memory_remedies(beside, false);
  ASSERT_EQ(alone.size(), 1u);
  EXPECT_EQ(alone[0], "quantise the diffusion model to fp8 (Diffusion model in fp8; --dit-fp8)");
  beside.dit_in_fp8 = true;
  EXPECT_TRUE(gpu_memory_remedies(beside, false).empty());
  beside.text_encoder = int64_t(11) << 30;
  beside.vae = int64_t(1) << 28;
  const std::vector<std::string> both = gpu_memory_remedies(beside, false);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_TRUE(contains(both[0], "text encoder's 11.0 GiB")) << both[0];
  EXPECT_TRUE(contains(both[0], "--text-encoder-device cpu")) << both[0];
  EXPECT_TRUE(contains(both[0], "--free-text-encoder")) << both[0];
  EXPECT_EQ(both[1], "put the VAE on the CPU (--vae-device cpu)");
  const std::vector<std::string> freed = gpu_memory_remedies(beside, true);
  ASSERT_EQ(freed.size(), 2u);
  EXPECT_TRUE(contains(freed[0], "--text-encoder-device cpu")) << freed[0];
  EXPECT_FALSE(contains(freed[0], "--free-text-encoder")) << "already freed: " << freed[0];
  EXPECT_EQ(freed[1], both[1]);
}

// The VAE's share is what the decoder loads, in either naming: in Diffusers names that includes
// post_quant_conv (the original conv2) and leaves out quant_conv and the encoder, whose resnets
// have conv2 tensors too.
TEST(WeightMemory, VaeCountsTheDecoderTensorsInEitherNaming) {
  const auto dir = test::scratch_dir("vae_bytes");
  const auto original = test::write_tiny_wan22_vae(dir, at::kFloat);  // plus encoder.conv1.weight
  std::vector<std::pair<std::string, at::Tensor>> diffusers = {
      {"encoder.down_blocks.0.resnets.0.conv2.weight", at::zeros({4, 4, 3, 3, 3})},
      {"encoder.mid_block.resnets.0.conv2.weight", at::zeros({16, 16, 3, 3, 3})},
      {"quant_conv.weight", at::zeros({96, 96, 1, 1, 1})}};
  int64_t decoder_elements = 0;
  for (const auto& [name, tensor] : test::tiny_wan22_vae_tensors()) {
    const std::string renamed = wan_vae_diffusers_name(name, WanVaeVersion::Wan22, 2);
    if (renamed.empty()) continue;  // encoder.conv1.weight
    decoder_elements += tensor.numel();
    diffusers.emplace_back(renamed, tensor);
  }
  const auto diffusers_path = dir / "diffusion_pytorch_model.safetensors";
  write_safetensors(diffusers_path, diffusers);
  EXPECT_EQ(wan_vae_decoder_bytes(original, at::kBFloat16), 2 * decoder_elements);
  EXPECT_EQ(wan_vae_decoder_bytes(diffusers_path, at::kBFloat16), 2 * decoder_elements);
}

}  // namespace
}  // namespace svgear
