// The Wan 2.2 VAE decoder (Wan2.2-TI2V-5B) on a tiny synthetic checkpoint written by the tests.
// There are no upstream test vectors for it (../shared/testvectors/wan/ holds Wan 2.1 only), so
// these tests check what can be checked without them: the released layout and its config from
// the shapes, the video's shape, finiteness, determinism and causality, the two rearrangements
// (DupUp3D, unpatchify) in float64 against index loops written from upstream's einops patterns,
// half-precision files, the loader's errors, the Diffusers names, sizes, preview and tiling.

#include <cmath>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/decoder/latent_tiling.h"
#include "core/decoder/wan_vae.h"
#include "core/decoder/wan_vae_decoder.h"
#include "core/decoder/wan_vae_layers.h"
#include "core/decoder/wan_vae_weight_names.h"
#include "core/user_error.h"
#include "core/weights/safetensors_file.h"
#include "core/weights/safetensors_writer.h"
#include "tests/decoder/tiny_wan22_vae.h"
#include "tests/decoder/tiny_wan_vae.h"
#include "tests/support/tensor_compare.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

using Shape = std::vector<int64_t>;
using TensorList = std::vector<std::pair<std::string, at::Tensor>>;

constexpr int kLatentChannels = 48;

at::Tensor tiny_latent(int64_t frames, uint64_t seed = 5) {
  return test::random_latent(kLatentChannels, frames, 2, 3, seed);
}

// ---- config and layout ----

TEST(Wan22Vae, ConfigIsReadFromTheShapes) {
  const WanVae vae = test::tiny_wan22_vae();
  const WanVaeConfig& c = vae.config();
  EXPECT_EQ(c.version, WanVaeVersion::Wan22);
  EXPECT_EQ(c.base_dim, 4);
  EXPECT_EQ(c.z_dim, 48);
  EXPECT_EQ(c.patch_size, 2);
  EXPECT_EQ(c.num_res_blocks, 2);
  EXPECT_EQ(c.temporal_upsample, (std::vector<bool>{true, true, false}));
  EXPECT_EQ(c.spatial_factor(), 16);
  EXPECT_EQ(c.temporal_factor(), 4);
  EXPECT_EQ(c.latents_mean.size(), 48u);
}

// The default 2.2 config is the released Wan2.2_VAE decoder (upstream Decoder3d with dec_dim 256,
// stage dims 1024 → 1024 → 1024 → 512 → 256): a few of its shapes as upstream's module
// definitions give them, and the config read back.
TEST(Wan22Vae, DefaultLayoutIsTheReleasedVae) {
  WanVaeWeights w = WanVaeWeights::meta(WanVaeConfig::wan22());
  std::map<std::string, Shape> shapes;
  w.for_each_tensor([&](const std::string& name, at::Tensor& t) { shapes[name] = t.sizes().vec(); });
  EXPECT_EQ(shapes.at("conv2.weight"), (Shape{48, 48, 1, 1, 1}));
  EXPECT_EQ(shapes.at("decoder.conv1.weight"), (Shape{1024, 48, 3, 3, 3}));
  EXPECT_EQ(shapes.at("decoder.middle.1.to_qkv.weight"), (Shape{3072, 1024, 1, 1}));
  EXPECT_EQ(shapes.at("decoder.upsamples.0.upsamples.3.time_conv.weight"), (Shape{2048, 1024, 3, 1, 1}));
  EXPECT_EQ(shapes.at("decoder.upsamples.0.upsamples.3.resample.1.weight"), (Shape{1024, 1024, 3, 3}));
  EXPECT_FALSE(shapes.contains("decoder.upsamples.1.upsamples.0.shortcut.weight"));  // 1024 → 1024
  EXPECT_EQ(shapes.at("decoder.upsamples.1.upsamples.3.time_conv.weight"), (Shape{2048, 1024, 3, 1, 1}));
  EXPECT_EQ(shapes.at("decoder.upsamples.2.upsamples.0.shortcut.weight"), (Shape{512, 1024, 1, 1, 1}));
  EXPECT_EQ(shapes.at("decoder.upsamples.2.upsamples.3.resample.1.weight"), (Shape{512, 512, 3, 3}));
  EXPECT_FALSE(shapes.contains("decoder.upsamples.2.upsamples.3.time_conv.weight"));
  EXPECT_EQ(shapes.at("decoder.upsamples.3.upsamples.0.shortcut.weight"), (Shape{256, 512, 1, 1, 1}));
  EXPECT_FALSE(shapes.contains("decoder.upsamples.3.upsamples.3.resample.1.weight"));
  EXPECT_EQ(shapes.at("decoder.upsamples.3.upsamples.2.residual.6.weight"), (Shape{256, 256, 3, 3, 3}));
  EXPECT_EQ(shapes.at("decoder.head.2.weight"), (Shape{12, 256, 3, 3, 3}));
  const WanVaeConfig read = WanVaeConfig::from_shapes(shapes);
  EXPECT_EQ(read.version, WanVaeVersion::Wan22);
  EXPECT_EQ(read.base_dim, 256);
  EXPECT_EQ(read.patch_size, 2);
  EXPECT_EQ(read.num_res_blocks, 2);
  EXPECT_EQ(read.temporal_upsample, (std::vector<bool>{true, true, false}));
}

// Spot values of upstream Wan2_2_VAE's mean / std and ComfyUI's Wan22 preview factors (first and
// last of each list), to catch a shifted or truncated transcription.
TEST(Wan22Vae, LatentStatisticsAndPreviewFactorsAreThePublishedOnes) {
  const WanVaeConfig c = WanVaeConfig::wan22();
  ASSERT_EQ(c.latents_mean.size(), 48u);
  ASSERT_EQ(c.latents_std.size(), 48u);
  EXPECT_FLOAT_EQ(c.latents_mean.front(), -0.2289f);
  EXPECT_FLOAT_EQ(c.latents_mean[19], 0.5109f);
  EXPECT_FLOAT_EQ(c.latents_mean.back(), -0.0667f);
  EXPECT_FLOAT_EQ(c.latents_std.front(), 0.4765f);
  EXPECT_FLOAT_EQ(c.latents_std[39], 1.6887f);
  EXPECT_FLOAT_EQ(c.latents_std.back(), 0.7744f);
  ASSERT_EQ(c.preview_rgb_factors.size(), 49u * 3);
  EXPECT_FLOAT_EQ(c.preview_rgb_factors[0], 0.0119f);
  EXPECT_FLOAT_EQ(c.preview_rgb_factors[39 * 3 + 1], -0.3543f);
  EXPECT_FLOAT_EQ(c.preview_rgb_factors[47 * 3 + 2], 0.0055f);
  EXPECT_FLOAT_EQ(c.preview_rgb_factors[48 * 3 + 0], 0.0317f);  // bias
  EXPECT_FLOAT_EQ(c.preview_rgb_factors[48 * 3 + 2], -0.1388f);
}

// ---- the two rearrangements, in float64 against index loops ----

// upstream DupUp3D: repeat_interleave over channels, view (out, ft, fs, fs, T, H, W), permute to
// (out, T, ft, H, fs, W, fs): out[o, t·ft + a, h·fs + i, w·fs + j] =
// x[(((o·ft + a)·fs + i)·fs + j) / repeats, t, h, w]; the first chunk drops frames 0 .. ft - 2.
at::Tensor dup_up_by_loops(const at::Tensor& x, int64_t out, int64_t ft, int64_t fs, WanVaeChunk chunk) {
  const int64_t c = x.size(1), t = x.size(2), h = x.size(3), w = x.size(4);
  const int64_t repeats = out * ft * fs * fs / c;
  at::Tensor y = at::zeros({1, out, t * ft, h * fs, w * fs}, x.options());
  auto xa = x.accessor<double, 5>();
  auto ya = y.accessor<double, 5>();
  for (int64_t o = 0; o < out; ++o)
    for (int64_t a = 0; a < ft; ++a)
      for (int64_t i = 0; i < fs; ++i)
        for (int64_t j = 0; j < fs; ++j)
          for (int64_t f = 0; f < t; ++f)
            for (int64_t r = 0; r < h; ++r)
              for (int64_t q = 0; q < w; ++q) {
                const int64_t source = (((o * ft + a) * fs + i) * fs + j) / repeats;
                ya[0][o][f * ft + a][r * fs + i][q * fs + j] = xa[0][source][f][r][q];
              }
  return chunk == WanVaeChunk::First ? y.narrow(2, ft - 1, y.size(2) - (ft - 1)) : y;
}

TEST(Wan22Vae, DupUpMatchesAnIndexLoopInFloat64) {
  const at::Tensor x = at::randn({1, 6, 2, 3, 2}, at::TensorOptions().dtype(at::kDouble));
  // (out channels, factor_t), factor_s 2. The released VAE has two kinds, here in small: repeats 8
  // (stages 0 and 1: channels kept, 2× in time: {6, 2}) and repeats 2 (stage 2: channels halved, no
  // temporal upsampling: {3, 1}); {3, 2} and {12, 2} (repeats 4 and 16) are extra coverage.
  for (auto [out, ft] : {std::pair<int64_t, int64_t>{6, 2}, {3, 2}, {3, 1}, {12, 2}}) {
    for (WanVaeChunk chunk : {WanVaeChunk::First, WanVaeChunk::Later}) {
      const bool first = chunk == WanVaeChunk::First;
      const at::Tensor got = wan_vae_dup_up(x, out, ft, 2, chunk);
      const at::Tensor expected = dup_up_by_loops(x, out, ft, 2, chunk);
      ASSERT_EQ(got.sizes(), expected.sizes()) << out << " " << ft << " " << first;
      EXPECT_TRUE(at::equal(got, expected)) << out << " " << ft << " " << first;
    }
  }
}

// upstream unpatchify "b (c r q) f h w -> b c f (h q) (w r)": out[c, f, h·p + q, w·p + r] =
// x[c·p² + r·p + q, f, h, w] (the column offset r is the slower of the two).
TEST(Wan22Vae, UnpatchifyMatchesAnIndexLoopInFloat64) {
  const int64_t p = 2, c = 3, t = 2, h = 3, w = 4;
  const at::Tensor x = at::randn({1, c * p * p, t, h, w}, at::TensorOptions().dtype(at::kDouble));
  at::Tensor expected = at::zeros({1, c, t, h * p, w * p}, x.options());
  auto xa = x.accessor<double, 5>();
  auto ea = expected.accessor<double, 5>();
  for (int64_t ci = 0; ci < c; ++ci)
    for (int64_t r = 0; r < p; ++r)
      for (int64_t q = 0; q < p; ++q)
        for (int64_t f = 0; f < t; ++f)
          for (int64_t y = 0; y < h; ++y)
            for (int64_t z = 0; z < w; ++z) {
              ea[0][ci][f][y * p + q][z * p + r] = xa[0][ci * p * p + r * p + q][f][y][z];
            }
  EXPECT_TRUE(at::equal(wan_vae_unpatchify(x, p), expected));
  EXPECT_TRUE(at::equal(wan_vae_unpatchify(x, 1), x));
}

// ---- the decode ----

TEST(Wan22Vae, VideoHasTheShapeOfFourBySixteenBySixteenAndIsFiniteAndDeterministic) {
  const WanVae vae = test::tiny_wan22_vae();
  const at::Tensor latent = tiny_latent(3);
  const at::Tensor video = vae.decode(latent);
  ASSERT_EQ(video.sizes(), (Shape{3, 1 + 4 * 2, 16 * 2, 16 * 3}));
  EXPECT_EQ(video.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::isfinite(video).all().item<bool>());
  std::cout << "[ measured ] tiny 2.2 VAE video spans " << video.min().item<double>() << " .. "
            << video.max().item<double>() << ", std " << video.std().item<double>() << "\n";
  EXPECT_GT(video.std().item<double>(), 1e-3);  // not a constant
  EXPECT_TRUE(at::equal(vae.decode(latent), video));
  EXPECT_EQ(vae.decode(tiny_latent(1)).sizes(), (Shape{3, 1, 32, 48}));
}

// Upstream's decoder is causal: every cache holds only earlier chunks, and the first-chunk handling
// (one frame from the resample, DupUp3D's first ft - 1 frames dropped) depends only on the chunk
// index. So decoding the first k latent frames gives the first 1 + 4(k - 1) video frames, up to
// float32 rounding (conv2 over 1 frame and over 3 sums in another order: measured 1.1e-6 at most
// on a video of ±1.3).
TEST(Wan22Vae, DecodingFewerLatentFramesGivesAPrefix) {
  constexpr double kRounding = 1e-5;
  const WanVae vae = test::tiny_wan22_vae();
  const at::Tensor latent = tiny_latent(3);
  const at::Tensor full = vae.decode(latent);
  EXPECT_TRUE(at::allclose(vae.decode(latent.narrow(1, 0, 1)), full.narrow(1, 0, 1), 0, kRounding));
  EXPECT_TRUE(at::allclose(vae.decode(latent.narrow(1, 0, 2)), full.narrow(1, 0, 5), 0, kRounding));
}

// The DupUp3D shortcut and the unpatchify are wired in: the decode changes when either is taken
// out (a decoder without them would still produce the right shape).
TEST(Wan22Vae, StageShortcutsAndPatchAreUsed) {
  const auto dir = test::scratch_dir("wan22_wiring");
  WanVaeWeights weights = WanVaeWeights::load(test::write_tiny_wan22_vae(dir, at::kFloat));
  const at::Tensor latent = tiny_latent(2);
  const at::Tensor video = WanVae(weights).decode(latent);
  WanVaeWeights as_21 = weights;
  as_21.config.version = WanVaeVersion::Wan21;  // same tensors, no DupUp3D shortcut
  as_21.config.patch_size = 1;
  const at::Tensor without = WanVae(as_21).decode(latent);  // [12, F, 8h, 8w]
  ASSERT_EQ(without.size(0), 12);
  EXPECT_FALSE(at::allclose(wan_vae_unpatchify(without.unsqueeze(0), 2).squeeze(0), video, 1e-3, 1e-3));
}

// ---- loading ----

std::string load_error(const std::filesystem::path& path) {
  try {
    WanVaeWeights::load(path);
  } catch (const UserError& e) {
    return e.what();
  }
  ADD_FAILURE() << "loaded " << path;
  return "";
}

std::filesystem::path write_edited(const std::string& name, const std::function<void(TensorList&)>& edit) {
  TensorList tensors = test::tiny_wan22_vae_tensors();
  edit(tensors);
  const auto path = test::scratch_dir("wan22_" + name) / "wan2.2_vae.safetensors";
  write_safetensors(path, tensors);
  return path;
}

TEST(Wan22VaeWeights, MissingAndMisshapenTensorsAreAllListed) {
  const auto path = write_edited("broken", [](TensorList& t) {
    std::erase_if(t, [](const auto& e) {
      return e.first == "decoder.head.2.bias" ||
             e.first == "decoder.upsamples.1.upsamples.3.time_conv.weight";
    });
    for (auto& [name, tensor] : t) {
      if (name == "decoder.upsamples.2.upsamples.3.resample.1.weight") tensor = at::zeros({4, 8, 3, 3});
    }
  });
  const std::string message = load_error(path);
  for (const char* part : {"is not a usable Wan 2.2 VAE", "2 tensors missing, 1 with the wrong shape",
                           "wan2.2_vae.safetensors (Comfy-Org/Wan_2.2_ComfyUI_Repackaged",
                           "missing: decoder.head.2.bias",
                           "missing: decoder.upsamples.1.upsamples.3.time_conv.weight",
                           "wrong shape: decoder.upsamples.2.upsamples.3.resample.1.weight: "
                           "expected [8, 8, 3, 3], got [4, 8, 3, 3]"}) {
    EXPECT_NE(message.find(part), std::string::npos) << part << "\n" << message;
  }
}

TEST(Wan22VaeWeights, LatentWidthWithoutKnownStatisticsIsRefused) {
  const auto path = write_edited("z32", [](TensorList& t) {
    for (auto& [name, tensor] : t) {
      if (name == "conv2.weight") tensor = at::zeros({32, 32, 1, 1, 1});
      if (name == "conv2.bias") tensor = at::zeros({32});
      if (name == "decoder.conv1.weight") tensor = at::zeros({16, 32, 3, 3, 3});
    }
  });
  const std::string message = load_error(path);
  EXPECT_NE(message.find("latent statistics are known for 48 channels only"), std::string::npos) << message;
}

TEST(Wan22VaeWeights, HalfPrecisionFilesLoadAndRun) {
  const at::Tensor latent = tiny_latent(2);
  const at::Tensor reference = test::tiny_wan22_vae().decode(latent);
  for (auto [dtype, tolerance] : {std::pair{at::kBFloat16, 3e-2}, std::pair{at::kHalf, 3e-3}}) {
    const auto dir = test::scratch_dir(std::string("wan22_") + c10::toString(dtype));
    WanVaeWeights w = WanVaeWeights::load(test::write_tiny_wan22_vae(dir, dtype));
    EXPECT_EQ(w.head_2_weight.scalar_type(), at::kFloat);
    const at::Tensor video = WanVae(std::move(w)).decode(latent);
    std::cout << "[ measured ] 2.2 VAE, " << c10::toString(dtype) << " weights: relative L2 "
              << test::relative_l2(video, reference) << "\n";
    EXPECT_TRUE(test::tensors_close(video, reference, tolerance)) << c10::toString(dtype);
  }
}

TEST(Wan22VaeWeights, DiffusersNamesRoundTrip) {
  constexpr WanVaeVersion kV = WanVaeVersion::Wan22;
  EXPECT_EQ(wan_vae_diffusers_name("decoder.upsamples.2.upsamples.0.shortcut.weight", kV, 2),
            "decoder.up_blocks.2.resnets.0.conv_shortcut.weight");
  EXPECT_EQ(wan_vae_diffusers_name("decoder.upsamples.0.upsamples.3.time_conv.weight", kV, 2),
            "decoder.up_blocks.0.upsampler.time_conv.weight");
  EXPECT_EQ(wan_vae_diffusers_name("decoder.upsamples.2.upsamples.3.resample.1.bias", kV, 2),
            "decoder.up_blocks.2.upsampler.resample.1.bias");
  EXPECT_EQ(wan_vae_diffusers_name("conv2.weight", kV, 2), "post_quant_conv.weight");
  for (const auto& [name, tensor] : test::tiny_wan22_vae_tensors()) {
    const std::string diffusers = wan_vae_diffusers_name(name, kV, 2);
    if (name.starts_with("encoder.")) {
      EXPECT_EQ(diffusers, "");
      continue;
    }
    EXPECT_EQ(wan_vae_original_name(diffusers, kV, 2), name) << diffusers;
  }
}

// vae/diffusion_pytorch_model.safetensors of the Wan2.2-TI2V-5B Diffusers repository
// (AutoencoderKLWan of the 2.2 VAE, names after convert_vae_22) loads as the same weights.
TEST(Wan22VaeWeights, DiffusersLayoutLoadsTheSameWeights) {
  const auto path = write_edited("diffusers", [](TensorList& t) {
    TensorList renamed;
    for (auto& [name, tensor] : t) {
      const std::string diffusers = wan_vae_diffusers_name(name, WanVaeVersion::Wan22, 2);
      if (!diffusers.empty()) renamed.emplace_back(diffusers, tensor);
    }
    t = renamed;
  });
  ASSERT_TRUE(SafetensorsFile::open(path)->contains("decoder.up_blocks.0.upsampler.time_conv.weight"));
  EXPECT_EQ(WanVaeWeights::read_config(path).version, WanVaeVersion::Wan22);
  const at::Tensor latent = tiny_latent(2);
  const at::Tensor video = WanVae(WanVaeWeights::load(path)).decode(latent);
  EXPECT_TRUE(at::equal(video, test::tiny_wan22_vae().decode(latent)));
}

// ---- the LatentDecoder ----

TEST(Wan22VaeDecoder, VideoAndPreviewOfOneLatent) {
  const auto path = test::write_tiny_wan22_vae(test::scratch_dir("wan22_decoder"), at::kBFloat16);
  const auto decoder = WanVaeDecoder::open(path, at::kCPU, at::kBFloat16);
  EXPECT_EQ(decoder->vae().dtype(), at::kFloat);
  const at::Tensor latent = tiny_latent(2);
  const Video video = decoder->decode(latent, 24.0);
  EXPECT_EQ(video.frames, 5);
  EXPECT_EQ(video.height, 32);
  EXPECT_EQ(video.width, 48);
  EXPECT_EQ(video.fps, 24.0);
  // the published projection, not a fit
  const LatentRgbProjection& projection = decoder->preview_projection();
  ASSERT_EQ(projection.matrix.sizes(), (Shape{49, 3}));
  EXPECT_FLOAT_EQ(projection.matrix[0][0].item<float>(), 0.0119f);
  EXPECT_FLOAT_EQ(projection.matrix[48][1].item<float>(), -0.0878f);
  const Video preview = decoder->preview(latent, 24.0);
  EXPECT_EQ(preview.frames, video.frames);
  EXPECT_EQ(preview.height, video.height);
  EXPECT_EQ(preview.width, video.width);
  // A Wan 2.1 latent does not fit.
  try {
    decoder->decode(test::random_latent(2, 2, 3, 1), 24.0);
    FAIL() << "a 16-channel latent was decoded";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("the Wan 2.2 VAE decodes latents of 48 channels"), std::string::npos)
        << e.what();
  }
}

// The latent tiling works unchanged at 16 pixels per latent cell. The bound is loose: the tiny
// VAE's random weights reach far past a tile's border (see latent_tiling_test.cpp for 2.1);
// measured relative L2 0.28 for 2×3 tiles of 8 sharing 3 on a 12×16 latent.
TEST(Wan22VaeDecoder, TiledDecodeCoversTheFrame) {
  const WanVae vae = test::tiny_wan22_vae();
  const at::Tensor latent = test::random_latent(kLatentChannels, 2, 12, 16, 9);
  const at::Tensor whole = vae.decode(latent);
  const at::Tensor tiled = decode_in_tiles(latent, {8, 3}, vae.config().spatial_factor(),
                                           [&](const at::Tensor& tile) { return vae.decode(tile); });
  ASSERT_EQ(tiled.sizes(), whole.sizes());
  const double relative = test::relative_l2(tiled, whole);
  std::cout << "[ measured ] 2.2 VAE tiled (8 sharing 3) vs whole: relative L2 " << relative << "\n";
  EXPECT_TRUE(at::isfinite(tiled).all().item<bool>());
  EXPECT_LT(relative, 0.35);
}

}  // namespace
}  // namespace svgear
