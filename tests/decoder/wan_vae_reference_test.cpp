// The VAE decoder against upstream WanVAE_.decode (../shared/testvectors/wan/wan_vae_tiny.*).

#include "core/decoder/wan_vae.h"

#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "tests/decoder/tiny_wan_vae.h"
#include "tests/support/tensor_compare.h"

namespace svgear {
namespace {

constexpr double kFloat32Tolerance = 1e-4;  // testvectors/README.md

TEST(WanVaeReference, ConfigIsReadFromTheShapes) {
  const WanVae vae = test::tiny_wan_vae();
  const WanVaeConfig& c = vae.config();
  EXPECT_EQ(c.base_dim, 8);
  EXPECT_EQ(c.z_dim, 16);
  EXPECT_EQ(c.num_res_blocks, 2);
  EXPECT_EQ(c.temporal_upsample, (std::vector<bool>{true, true, false}));
  EXPECT_EQ(c.spatial_factor(), 8);
  EXPECT_EQ(c.temporal_factor(), 4);
}

// The default config is the released Wan2.1_VAE: a few of its decoder shapes, as that file has them.
TEST(WanVaeReference, DefaultLayoutIsTheReleasedVae) {
  WanVaeWeights w = WanVaeWeights::meta(WanVaeConfig{});
  std::map<std::string, std::vector<int64_t>> shapes;
  w.for_each_tensor([&](const std::string& name, at::Tensor& t) { shapes[name] = t.sizes().vec(); });
  using Shape = std::vector<int64_t>;
  EXPECT_EQ(shapes.at("decoder.conv1.weight"), (Shape{384, 16, 3, 3, 3}));
  EXPECT_EQ(shapes.at("decoder.upsamples.3.time_conv.weight"), (Shape{768, 384, 3, 1, 1}));
  EXPECT_EQ(shapes.at("decoder.upsamples.4.shortcut.weight"), (Shape{384, 192, 1, 1, 1}));
  EXPECT_EQ(shapes.at("decoder.upsamples.11.resample.1.weight"), (Shape{96, 192, 3, 3}));
  EXPECT_FALSE(shapes.contains("decoder.upsamples.11.time_conv.weight"));
  EXPECT_EQ(shapes.at("decoder.head.2.weight"), (Shape{3, 96, 3, 3, 3}));
  // and the config read back from those shapes is the default one
  const WanVaeConfig read = WanVaeConfig::from_shapes(shapes);
  EXPECT_EQ(read.base_dim, 96);
  EXPECT_EQ(read.num_res_blocks, 2);
  EXPECT_EQ(read.temporal_upsample, (std::vector<bool>{true, true, false}));
}

TEST(WanVaeReference, LatentStatisticsAreUpstreams) {
  const test::TinyWanVaeIo io = test::tiny_wan_vae_io();
  const WanVaeConfig c;
  EXPECT_TRUE(at::equal(at::tensor(c.latents_mean), io.latents_mean));
  EXPECT_TRUE(at::equal(at::tensor(c.latents_std), io.latents_std));
}

TEST(WanVaeReference, VideoMatchesUpstream) {
  const test::TinyWanVaeIo io = test::tiny_wan_vae_io();
  const at::Tensor video = test::tiny_wan_vae().decode(io.z);
  ASSERT_EQ(video.sizes(), io.video.sizes());
  EXPECT_EQ(video.scalar_type(), at::kFloat);
  const double max_abs = (video - io.video).abs().max().item<double>();
  const double max_rel = max_abs / io.video.abs().max().item<double>();
  std::cout << "[ measured ] video: relative L2 " << test::relative_l2(video, io.video)
            << ", max abs " << max_abs << ", max abs / max |reference| " << max_rel << "\n";
  EXPECT_TRUE(test::tensors_close(video, io.video, kFloat32Tolerance));
  EXPECT_LE(max_rel, kFloat32Tolerance);
}

// The causal caches make a decode of the first k latent frames a prefix of the full decode.
TEST(WanVaeReference, DecodingFewerLatentFramesGivesAPrefix) {
  const test::TinyWanVaeIo io = test::tiny_wan_vae_io();
  const WanVae vae = test::tiny_wan_vae();
  const at::Tensor full = vae.decode(io.z);
  EXPECT_TRUE(at::allclose(vae.decode(io.z.narrow(1, 0, 1)), full.narrow(1, 0, 1), 0, 1e-6));
  EXPECT_TRUE(at::allclose(vae.decode(io.z.narrow(1, 0, 2)), full.narrow(1, 0, 5), 0, 1e-6));
}

}  // namespace
}  // namespace svgear
