// Wan2.2-TI2V-5B folders: a tiny synthetic TI2V DiT (48 latent channels, random weights) with the
// synthetic Wan 2.2 VAE, in the ComfyUI and Diffusers layouts, detected, paired with its VAE and
// generated end to end through the 2.2 VAE into a video file on the CPU; a Wan 2.1 DiT with the
// 2.2 VAE (and the reverse) refused with the file to use, as are a stray file in vae/ and a DiT
// whose head makes another latent width.

#include <algorithm>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/decoder/wan_vae_decoder.h"
#include "core/media/video_output.h"
#include "core/media/video_reader.h"
#include "core/model/wan_random_weights.h"
#include "core/pipeline/generator.h"
#include "core/pipeline/wan_folder.h"
#include "core/user_error.h"
#include "core/weights/safetensors_writer.h"
#include "tests/support/test_paths.h"
#include "tests/text/tiny_umt5.h"
#include "tests/wan/tiny_wan_folder.h"

namespace svgear {
namespace {

namespace fs = std::filesystem;
using test::contains;

GenerationRequest tiny_ti2v_request() {
  GenerationRequest r;
  r.prompt = "a red cat walks on the grass";
  r.seed = 11;
  r.steps = 2;
  r.frames = 5;   // 2 latent frames
  r.height = 32;  // latent 2 × 4 (16 px per cell), tokens 1 × 2 per frame
  r.width = 64;
  r.preview_every = 1;
  return r;
}

struct PreviewCount : EventSink {
  int previews = 0;
  int width = 0;
  void on_preview(const PreviewEvent& e) override {
    ++previews;
    width = e.video.width;
  }
};

void expect_generates(Model& model, const fs::path& out) {
  PreviewCount sink;
  CancelToken cancel;
  const GenerationResult result = Generator(model).run(tiny_ti2v_request(), sink, cancel);
  ASSERT_EQ(result.status, GenerationStatus::Finished) << result.error;
  EXPECT_EQ(result.video.frames, 5);
  EXPECT_EQ(result.video.height, 32);
  EXPECT_EQ(result.video.width, 64);
  EXPECT_EQ(result.video.fps, 24.0);  // the TI2V default
  EXPECT_EQ(sink.previews, 1);        // after step 1 of 2; the last step gives the video
  EXPECT_EQ(sink.width, 64);
  const VideoOutputResult written = write_video(result.video, out);
  const Video back = read_video(written.path);
  EXPECT_EQ(back.frames, 5);
  EXPECT_EQ(back.height, 32);
  EXPECT_EQ(back.width, 64);
}

// Esc or Ctrl-C during the final VAE decode (seconds for a real clip): the decode stops at its next
// latent frame, the run ends cancelled after all its steps, and the last preview is what it keeps.
TEST(WanTi2v, ACancelDuringTheFinalDecodeKeepsTheLastPreview) {
  const auto dir = test::write_tiny_wan22_ti2v_original(test::scratch_dir("ti2v_cancel_decode") / "model");
  auto model = Model::load(dir, c10::Device(c10::kCPU));
  struct CancelAtTheLastStep : EventSink {
    CancelToken* cancel = nullptr;
    Video last_preview;
    std::vector<std::string> logs;
    void on_step(const StepEvent& e) override {
      if (e.step + 1 == e.num_steps) cancel->cancel();  // the final decode comes next
    }
    void on_preview(const PreviewEvent& e) override { last_preview = e.video; }
    void on_log(const std::string& line) override { logs.push_back(line); }
  } sink;
  CancelToken cancel;
  sink.cancel = &cancel;
  const GenerationResult result = Generator(*model).run(tiny_ti2v_request(), sink, cancel);
  EXPECT_EQ(result.status, GenerationStatus::Cancelled);
  EXPECT_EQ(result.steps_done, 2);
  ASSERT_EQ(sink.last_preview.frames, 5);
  EXPECT_EQ(result.video.rgb, sink.last_preview.rgb);
  EXPECT_TRUE(std::any_of(sink.logs.begin(), sink.logs.end(), [](const std::string& line) {
    return contains(line, "cancelled during the final decode; kept the last estimate");
  }));
}

TEST(WanTi2v, ComfyUiFolderIsDetectedAndGeneratesThroughTheWan22Vae) {
  const auto dir = test::write_tiny_wan22_ti2v_original(test::scratch_dir("ti2v_original") / "model");
  auto model = Model::load(dir, c10::Device(c10::kCPU));
  const ModelManifest& m = model->manifest;
  EXPECT_EQ(m.name, "Wan2.2-TI2V-architecture DiT (dim 128, 2 layers, 48 input channels)");
  EXPECT_EQ(m.vae_file, "wan2.2_vae.safetensors");
  EXPECT_EQ(m.dit.in_dim, 48);
  EXPECT_EQ(m.dit.out_dim, 48);
  EXPECT_EQ(m.spatial_factor, 16);
  EXPECT_EQ(m.temporal_factor, 4);
  EXPECT_EQ(m.defaults.frames, 121);
  EXPECT_EQ(m.defaults.fps, 24.0);
  EXPECT_EQ(m.defaults.height, 704);
  EXPECT_EQ(m.defaults.width, 1280);
  EXPECT_EQ(model->decoder->latent_shape(5, 32, 64).channels, 48);
  expect_generates(*model, dir.parent_path() / "ti2v.y4m");
}

TEST(WanTi2v, DiffusersFolderLoadsTheSameModelAndGenerates) {
  const auto root = test::scratch_dir("ti2v_diffusers");
  auto diffusers = Model::load(test::write_tiny_wan22_ti2v_diffusers(root / "diffusers"), c10::Device(c10::kCPU));
  auto original = Model::load(test::write_tiny_wan22_ti2v_original(root / "original"), c10::Device(c10::kCPU));
  EXPECT_NE(diffusers->manifest.description.find("diffusers layout"), std::string::npos);
  EXPECT_EQ(diffusers->manifest.vae_file, "vae/diffusion_pytorch_model.safetensors");
  EXPECT_EQ(diffusers->manifest.spatial_factor, 16);
  // The same DiT and VAE weights under either naming.
  const auto a = diffusers->dit->weights().state_dict();
  const auto b = original->dit->weights().state_dict();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_TRUE(at::equal(a[i].second, b[i].second)) << a[i].first;
  }
  const at::Tensor latent = at::randn({48, 2, 2, 4});
  const auto& vae_a = dynamic_cast<const WanVaeDecoder&>(*diffusers->decoder);
  const auto& vae_b = dynamic_cast<const WanVaeDecoder&>(*original->decoder);
  EXPECT_TRUE(at::equal(vae_a.decode_tensor(latent), vae_b.decode_tensor(latent)));
  expect_generates(*diffusers, root / "diffusers.y4m");
}

TEST(WanTi2v, SizesFollowTheWan22VaeAndThePatch) {
  const auto dir = test::write_tiny_wan22_ti2v_original(test::scratch_dir("ti2v_sizes") / "model");
  const ModelManifest m = read_wan_manifest(dir);
  GenerationRequest r = tiny_ti2v_request();
  r.height = 48;
  try {
    r.resolve(m);
    FAIL() << "height 48 accepted";
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), "height 48 is not a multiple of 32 (VAE 16 × patch 2): try 32 or 64")) << e.what();
  }
  r.height = 32;
  r.frames = 6;
  try {
    r.resolve(m);
    FAIL() << "6 frames accepted";
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), "try 5 or 9")) << e.what();
  }
}

std::string manifest_error(const fs::path& dir) {
  try {
    read_wan_manifest(dir);
  } catch (const UserError& e) {
    return e.what();
  }
  ADD_FAILURE() << "read " << dir;
  return "";
}

TEST(WanTi2v, AVaeOfTheOtherVersionIsRefusedWithTheFileToUse) {
  const auto root = test::scratch_dir("ti2v_mixed");
  const auto ti2v = test::write_tiny_wan22_ti2v_original(root / "ti2v");
  const auto wan21 = test::write_tiny_wan_original(root / "wan21");
  // the two folders' VAEs swapped
  fs::rename(ti2v / "wan2.2_vae.safetensors", root / "wan2.2_vae.safetensors");
  fs::rename(wan21 / "wan_2.1_vae.safetensors", ti2v / "wan_2.1_vae.safetensors");
  fs::rename(root / "wan2.2_vae.safetensors", wan21 / "wan2.2_vae.safetensors");

  std::string error = manifest_error(ti2v);
  EXPECT_TRUE(contains(error, "is the Wan 2.1 VAE (16 latent channels), but Wan2.2-TI2V-architecture DiT")) << error;
  EXPECT_TRUE(contains(error, "works on 48-channel latents and needs the Wan 2.2 VAE")) << error;
  EXPECT_TRUE(contains(error, "put wan2.2_vae.safetensors (Comfy-Org/Wan_2.2_ComfyUI_Repackaged")) << error;

  error = manifest_error(wan21);
  EXPECT_TRUE(contains(error, "is the Wan 2.2 VAE (48 latent channels)")) << error;
  EXPECT_TRUE(contains(error, "works on 16-channel latents and needs the Wan 2.1 VAE: put wan_2.1_vae.safetensors"))
      << error;
  // Model::load says the same before reading any weights.
  try {
    Model::load(wan21, c10::Device(c10::kCPU));
    FAIL() << "loaded";
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), "needs the Wan 2.1 VAE")) << e.what();
  }
}

// A .safetensors in vae/ that is no VAE (no decoder.conv1 / decoder.conv_in) is not taken for one,
// so it is not described as a VAE of either version: the folder has no VAE, and the message says
// which file each model needs.
TEST(WanTi2v, AStrayFileInVaeIsNotTakenForAVae) {
  const auto dir = test::write_tiny_wan22_ti2v_diffusers(test::scratch_dir("ti2v_stray_vae") / "model");
  fs::remove(dir / "vae" / "diffusion_pytorch_model.safetensors");
  write_safetensors(dir / "vae" / "notes.safetensors", {{"weight", at::zeros({4, 4})}});
  const std::string error = manifest_error(dir);
  EXPECT_TRUE(contains(error, "no Wan VAE in")) << error;
  EXPECT_TRUE(contains(error, "Wan2.2-TI2V-5B needs wan2.2_vae.safetensors")) << error;
  EXPECT_FALSE(contains(error, "is the Wan 2.1 VAE")) << error;
}

// The DiT's head must make the latents it reads and the VAE decodes; more channels in than out is a
// conditioned model (the shape of Fun-Control's), refused when the folder is read, not after sampling.
TEST(WanTi2v, ADitWhoseOutputIsNotTheVaesLatentIsRefusedAtLoad) {
  const auto dir = test::write_tiny_wan22_ti2v_original(test::scratch_dir("ti2v_out_dim") / "model");
  WanConfig narrow_head = test::tiny_wan22_ti2v_config();
  narrow_head.out_dim = 16;
  write_safetensors(dir / "wan2.2_ti2v_tiny_fp32.safetensors", wan_random_weights(narrow_head, 1).state_dict());
  const std::string error = manifest_error(dir);
  EXPECT_TRUE(contains(error, "wan2.2_ti2v_tiny_fp32.safetensors' is a conditioned Wan model")) << error;
  EXPECT_TRUE(contains(error, "48 input channels, 16 output channels")) << error;
  try {
    Model::load(dir, c10::Device(c10::kCPU));
    FAIL() << "loaded";
  } catch (const UserError& e) {
    EXPECT_TRUE(contains(e.what(), "16 output channels")) << e.what();
  }
}

// A folder may hold both VAEs (wan2.2_vae.safetensors sorts before wan_2.1_vae.safetensors): each
// DiT takes the VAE of its latent space.
TEST(WanTi2v, WithBothVaesInTheFolderEachModelTakesItsOwn) {
  const auto root = test::scratch_dir("ti2v_both_vaes");
  const auto ti2v = test::write_tiny_wan22_ti2v_original(root / "ti2v");
  const auto wan21 = test::write_tiny_wan_original(root / "wan21");
  fs::copy_file(wan21 / "wan_2.1_vae.safetensors", ti2v / "wan_2.1_vae.safetensors");
  fs::copy_file(ti2v / "wan2.2_vae.safetensors", wan21 / "wan2.2_vae.safetensors");
  EXPECT_EQ(read_wan_manifest(ti2v).vae_file, "wan2.2_vae.safetensors");
  const ModelManifest m = read_wan_manifest(wan21);
  EXPECT_EQ(m.vae_file, "wan_2.1_vae.safetensors");
  EXPECT_EQ(m.spatial_factor, 8);
}

}  // namespace
}  // namespace svgear
