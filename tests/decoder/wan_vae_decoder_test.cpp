// WanVaeDecoder: latent sizes and their errors, the 8-bit video, the compute dtype per device.

#include "core/decoder/wan_vae_decoder.h"

#include <cmath>
#include <limits>
#include <string>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/user_error.h"
#include "tests/decoder/tiny_wan22_vae.h"
#include "tests/decoder/tiny_wan_vae.h"

namespace svgear {
namespace {

std::string shape_error(const WanVaeDecoder& decoder, int frames, int height, int width) {
  try {
    decoder.latent_shape(frames, height, width);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

void expect_latent_shape(const LatentShape& shape, int channels, int frames, int height, int width) {
  EXPECT_EQ(shape.channels, channels);
  EXPECT_EQ(shape.frames, frames);
  EXPECT_EQ(shape.height, height);
  EXPECT_EQ(shape.width, width);
}

TEST(WanVaeDecoder, LatentShapeOfTheWanDefaults) {
  const WanVaeDecoder decoder(test::tiny_wan_vae());
  expect_latent_shape(decoder.latent_shape(81, 480, 832), 16, 21, 60, 104);
  EXPECT_EQ(decoder.latent_shape(1, 8, 8).frames, 1);
}

TEST(Wan22VaeDecoder, LatentShapeOfTheTi2vDefaultsAndSizeErrors) {
  const WanVaeDecoder decoder(test::tiny_wan22_vae());
  expect_latent_shape(decoder.latent_shape(121, 704, 1280), 48, 31, 44, 80);
  EXPECT_NE(shape_error(decoder, 121, 704, 1272).find("multiple of 16: 1272 is not; use 1264 or 1280"),
            std::string::npos);
  EXPECT_NE(shape_error(decoder, 120, 704, 1280).find("use 117 or 121 frames"), std::string::npos);
}

TEST(WanVaeDecoder, ImpossibleSizesSayWhatToUse) {
  const WanVaeDecoder decoder(test::tiny_wan_vae());
  const std::string frames = shape_error(decoder, 82, 480, 832);
  EXPECT_NE(frames.find("4n+1"), std::string::npos) << frames;
  EXPECT_NE(frames.find("use 81 or 85 frames"), std::string::npos) << frames;
  EXPECT_NE(shape_error(decoder, 0, 480, 832).find("use 1 frames"), std::string::npos);
  const std::string height = shape_error(decoder, 81, 470, 832);
  EXPECT_NE(height.find("height"), std::string::npos) << height;
  EXPECT_NE(height.find("use 464 or 472"), std::string::npos) << height;
  EXPECT_NE(shape_error(decoder, 81, 480, 4).find("width that is a multiple of 8: 4 is not; use 8"),
            std::string::npos);
}

TEST(WanVaeDecoder, LatentOfAnotherModelFamilyIsAUserError) {
  const WanVaeDecoder decoder(test::tiny_wan_vae());
  const at::Tensor wan22_latent = at::zeros({48, 2, 4, 6});
  try {
    decoder.decode(wan22_latent, 16.0);
    FAIL() << "a 48-channel latent was decoded";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("do not belong together"), std::string::npos) << e.what();
  }
  EXPECT_THROW(decoder.preview(wan22_latent, 16.0), UserError);
}

// The final decode of a Wan clip takes seconds: a set token stops it (polled per latent frame), an
// unset one changes nothing.
TEST(WanVaeDecoder, ACancelledTokenStopsTheDecode) {
  const test::TinyWanVaeIo io = test::tiny_wan_vae_io();
  const WanVaeDecoder decoder(test::tiny_wan_vae());
  CancelToken cancel;
  EXPECT_EQ(decoder.decode(io.z, 16.0, &cancel).rgb, decoder.decode(io.z, 16.0).rgb);
  cancel.cancel();
  EXPECT_THROW(decoder.decode(io.z, 16.0, &cancel), Cancelled);
  EXPECT_NO_THROW(decoder.preview(io.z, 16.0));  // the previews' projection is cheap: no token
}

TEST(WanVaeDecoder, VideoIsTheClampedDecodeIn8Bits) {
  const test::TinyWanVaeIo io = test::tiny_wan_vae_io();
  const WanVaeDecoder decoder(test::tiny_wan_vae());
  const Video video = decoder.decode(io.z, 16.0);
  ASSERT_EQ(video.frames, 9);
  ASSERT_EQ(video.height, 32);
  ASSERT_EQ(video.width, 48);
  EXPECT_EQ(video.fps, 16.0);
  // [3, F, H, W] → [F, H, W, 3], clamp(-1, 1), (x + 1) / 2 · 255
  const at::Tensor expected =
      ((io.video.clamp(-1, 1) + 1) * 127.5).round().permute({1, 2, 3, 0}).contiguous();
  const float* e = expected.data_ptr<float>();
  int worst = 0;
  for (size_t i = 0; i < video.rgb.size(); ++i) worst = std::max(worst, int(std::abs(video.rgb[i] - e[i])));
  EXPECT_LE(worst, 1);  // one code value where the fp32 difference crosses a rounding boundary
}

// NaN reaching the decode (here in the latent; NaN weights give the same) is an error, not the
// black video the 8-bit conversion's clamp would make of it.
TEST(WanVaeDecoder, NonFiniteValuesAreAnErrorNotABlackVideo) {
  const test::TinyWanVaeIo io = test::tiny_wan_vae_io();
  const WanVaeDecoder decoder(test::tiny_wan_vae());
  at::Tensor z = io.z.clone();
  z.view(-1)[0] = std::numeric_limits<float>::quiet_NaN();
  try {
    decoder.decode(z, 16.0);
    ADD_FAILURE() << "decoded NaN to a video";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("non-finite values"), std::string::npos) << e.what();
  }
}

TEST(WanVaeDecoder, HalfPrecisionRequestsComputeInFloat32OnTheCpu) {
  const auto decoder = WanVaeDecoder::open(test::tiny_wan_vae_path(), at::kCPU, at::kBFloat16);
  EXPECT_EQ(decoder->vae().dtype(), at::kFloat);
  EXPECT_TRUE(decoder->vae().device().is_cpu());
}

}  // namespace
}  // namespace svgear
