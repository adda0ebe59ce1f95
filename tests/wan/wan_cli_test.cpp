// `svgear generate --model DIR` on tiny Wan folders of both layouts, as a user types it.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/media/video_reader.h"
#include "core/media/y4m_writer.h"
#include "core/pipeline/generator.h"
#include "core/pipeline/model.h"
#include "core/text/umt5_weight_names.h"
#include "tests/cli/cli_run.h"
#include "tests/support/test_paths.h"
#include "tests/text/tiny_umt5.h"
#include "tests/wan/tiny_wan_folder.h"

namespace svgear {
namespace {

using test::contains;
using test::run_cli;

constexpr const char* kTinyRun =
    " --prompt \"a red cat walks on the grass\" --frames 5 --size 48x32 --steps 2 --device cpu";

double mean_abs_difference(const Video& a, const Video& b) {
  double sum = 0.0;
  for (size_t i = 0; i < a.rgb.size(); ++i) sum += std::abs(int(a.rgb[i]) - int(b.rgb[i]));
  return sum / double(a.rgb.size());
}

// Each layout's run writes the frames the Generator API makes of the same request on that folder,
// loaded with the same options. The layouts hold the same DiT, but the Diffusers config has no
// text_len (so 512, against the ComfyUI config's 16: more padding rows in cross-attention) and its
// umT5 is fp32 rather than fp16: their videos are close, far closer than another seed's.
TEST(WanCli, GeneratesFromBothLayouts) {
  const auto root = test::scratch_dir("wan_cli");
  std::vector<Video> videos;
  double seed_difference = 255.0;
  for (const auto& dir : {test::write_tiny_wan_original(root / "original"),
                          test::write_tiny_wan_diffusers(root / "diffusers")}) {
    const std::string layout = dir.filename().string();
    const auto out = root / (layout + ".y4m");
    const test::CliRun run = run_cli("generate --model " + dir.string() + kTinyRun +
                                     " --seed 3 --free-text-encoder --vae-device cpu --text-encoder-device cpu --quiet"
                                     " --output " + out.string());
    ASSERT_EQ(run.exit_code, 0) << run.output;
    EXPECT_TRUE(contains(run.output, "wrote " + out.string()));
    const Video written = read_video(out);
    EXPECT_EQ(written.frames, 5);
    EXPECT_EQ(written.height, 32);
    EXPECT_EQ(written.width, 48);

    ModelOptions options;
    options.free_text_encoder = true;
    options.vae_device = c10::Device(c10::kCPU);
    options.text_encoder_device = c10::Device(c10::kCPU);
    const std::unique_ptr<Model> model = Model::load(dir, c10::Device(c10::kCPU), options);
    // Through the same lossless file as the CLI's, so that only the pixels made can differ.
    const auto generate = [&](uint64_t seed) {
      const GenerationResult result = test::generate_through_the_api(*model, "a red cat walks on the grass", seed, 2);
      const auto path = root / (layout + "-api-seed" + std::to_string(seed) + ".y4m");
      write_y4m(result.video, path);
      return std::pair(result.request, read_video(path));
    };
    const auto [request, expected] = generate(3);
    const nlohmann::json record = nlohmann::json::parse(std::ifstream(root / (layout + ".json")));
    EXPECT_EQ(request.to_json(), record["request"]) << layout << ": not the request the CLI ran";
    EXPECT_EQ(written.rgb, expected.rgb) << layout;
    const Video other_seed = generate(4).second;
    ASSERT_EQ(other_seed.rgb.size(), written.rgb.size());
    seed_difference = std::min(seed_difference, mean_abs_difference(written, other_seed));
    videos.push_back(written);
  }
  ASSERT_EQ(videos[0].rgb.size(), videos[1].rgb.size());
  const double layout_difference = mean_abs_difference(videos[0], videos[1]);
  std::printf("[ measured ] mean difference per byte: original vs diffusers layout %.2f, seed 3 vs 4 %.2f\n",
              layout_difference, seed_difference);
  EXPECT_LT(layout_difference, seed_difference / 8);
}

// --dit-fp8 quantises the DiT as it loads; the run record says so (a dense run is reused only alike).
TEST(WanCli, DitFp8IsRecorded) {
  const auto root = test::scratch_dir("wan_cli_fp8");
  const auto dir = test::write_tiny_wan_original(root / "original");
  const auto out = root / "fp8.y4m";
  const test::CliRun run = run_cli("generate --model " + dir.string() + kTinyRun + " --dit-fp8 --quiet --output " +
                                   out.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::ifstream in(root / "fp8.json");
  const nlohmann::json record = nlohmann::json::parse(in);
  EXPECT_TRUE(record["device"].value("dit_fp8", false)) << record["device"].dump();
  EXPECT_EQ(read_video(out).frames, 5);
}

// Wan2.2-TI2V-5B's family: 16 pixels per latent cell, so 64×32 rather than 48×32.
TEST(WanCli, GeneratesWithATi2vFolder) {
  const auto root = test::scratch_dir("wan_cli_ti2v");
  const auto dir = test::write_tiny_wan22_ti2v_original(root / "ti2v");
  const auto out = root / "ti2v.y4m";
  const test::CliRun run = run_cli("generate --model " + dir.string() +
                                   " --prompt \"a red cat\" --frames 5 --size 64x32 --steps 2 --device cpu"
                                   " --quiet --output " + out.string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const Video video = read_video(out);
  EXPECT_EQ(video.frames, 5);
  EXPECT_EQ(video.height, 32);
  EXPECT_EQ(video.width, 64);
  EXPECT_EQ(video.fps, 24.0);
}

// --idle-expert-on-cpu moves an expert of a pair off a GPU: with a model of one diffusion model, or
// on the CPU, it would do nothing, and is refused before the model loads.
TEST(WanCli, AnIdleExpertNeedsAPairOnAGpu) {
  const auto root = test::scratch_dir("wan_cli_idle_expert");
  const auto single = test::write_tiny_wan_original(root / "single");
  test::CliRun run = run_cli("generate --model " + single.string() + kTinyRun + " --idle-expert-on-cpu --output " +
                             (root / "never.y4m").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_TRUE(contains(run.output, "--idle-expert-on-cpu applies to a pair of experts (Wan2.2-A14B), and '" +
                                       single.string() + "'"))
      << run.output;
  EXPECT_FALSE(contains(run.output, "model ")) << "checked before the weights load: " << run.output;

  const auto pair = test::write_tiny_wan_a14b_comfy(root / "pair");
  run = run_cli("generate --model " + pair.string() + kTinyRun + " --idle-expert-on-cpu --output " +
                (root / "never.y4m").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_TRUE(contains(run.output, "--idle-expert-on-cpu keeps the Wan2.2-A14B expert not in use in host memory "
                                   "while the other runs on a GPU, and this run's device is the CPU"))
      << run.output;
  EXPECT_FALSE(contains(run.output, "model ")) << "checked before the weights load: " << run.output;
  EXPECT_FALSE(std::filesystem::exists(root / "never.y4m"));
}

TEST(WanCli, WrongFrameCountAndMissingVaeAreExplained) {
  const auto dir = test::write_tiny_wan_original(test::scratch_dir("wan_cli_errors") / "model");
  test::CliRun run = run_cli("generate --model " + dir.string() +
                             " --prompt a --frames 8 --size 48x32 --steps 1 --device cpu --output " +
                             (dir.parent_path() / "x.y4m").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_TRUE(contains(run.output, "try 5 or 9"));
  EXPECT_FALSE(contains(run.output, "model ")) << "checked before the weights load: " << run.output;

  std::filesystem::remove(dir / "wan_2.1_vae.safetensors");
  run = run_cli("generate --model " + dir.string() + kTinyRun + " --output " + (dir.parent_path() / "y.y4m").string());
  EXPECT_NE(run.exit_code, 0);
  EXPECT_TRUE(contains(run.output, "no Wan VAE in"));
}

// `info --model` checks what a generation would: a tokenizer of another model beside umT5 (more
// pieces than its embedding has rows) had passed it and failed the generation.
TEST(WanCli, InfoRefusesATokenizerOfAnotherModel) {
  const auto dir = test::write_tiny_wan_original(test::scratch_dir("wan_cli_info_tokenizer") / "model");
  ASSERT_EQ(run_cli("info --model " + dir.string()).exit_code, 0);
  std::vector<std::pair<std::string, double>> pieces;
  for (int i = 0; i < 400; ++i) pieces.emplace_back("\xE2\x96\x81w" + std::to_string(i), -3.0);
  test::write_tokenizer_json(dir / "google" / "umt5-xxl", pieces);
  const test::CliRun run = run_cli("info --model " + dir.string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_TRUE(contains(run.output, "403 pieces but the text encoder 300 embeddings")) << run.output;
}

// A weight file's name that holds no file (a broken link into a download cache, a FIFO) is named
// with what it is: the messages had said only what they looked for, the very name the user sees.
TEST(WanCli, NamesThereButNoFilesAreSaid) {
  const auto dir = test::write_tiny_wan_original(test::scratch_dir("wan_cli_not_files") / "model");
  const auto dit = dir / "wan2.1_t2v_tiny_fp32.safetensors";
  std::filesystem::remove(dit);
  std::filesystem::create_symlink("/nonexistent/blobs/dit", dit);
  const std::string generate = "generate --model " + dir.string() + kTinyRun + " --output " +
                               (dir.parent_path() / "x.y4m").string();
  test::CliRun run = run_cli(generate);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_TRUE(
      contains(run.output, "There, but not files: " + dit.string() + " (a broken link to /nonexistent/blobs/dit)"));
  std::filesystem::remove(dit);
  test::write_tiny_wan_original(dir);
  std::filesystem::remove(dir / "umt5_xxl_fp16.safetensors");
  std::filesystem::create_directory(dir / "umt5_xxl_fp16.safetensors");
  run = run_cli(generate);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_TRUE(contains(run.output, (dir / "umt5_xxl_fp16.safetensors").string() + " (a folder)"));
}

// A NaN in umT5's weights is named there, not blamed on the diffusion model it reaches first.
TEST(WanCli, NonFiniteTextEncoderWeightsAreNamed) {
  const auto dir = test::write_tiny_wan_original(test::scratch_dir("wan_cli_nan_umt5") / "model");
  auto tensors = test::tiny_umt5_state_dict();
  for (auto& [name, tensor] : tensors) {
    if (name.ends_with("token_embedding.weight")) tensor = at::full_like(tensor, std::nan(""));
    name = umt5_hf_name(name);
  }
  test::write_tensors(dir, "umt5_xxl_fp16.safetensors", tensors);
  const test::CliRun run = run_cli("generate --model " + dir.string() + kTinyRun + " --output " +
                                   (dir.parent_path() / "nan.y4m").string());
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_TRUE(contains(run.output, "the text encoder of model '")) << run.output;
  EXPECT_TRUE(contains(run.output, "(umt5_xxl_fp16.safetensors) may hold NaN")) << run.output;
  EXPECT_FALSE(contains(run.output, "step 1 of")) << run.output;
}

}  // namespace
}  // namespace svgear
