// `svgear generate --model DIR` on tiny Wan folders of both layouts, as a user types it.

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/media/video_reader.h"
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

TEST(WanCli, GeneratesFromBothLayouts) {
  const auto root = test::scratch_dir("wan_cli");
  for (const auto& dir : {test::write_tiny_wan_original(root / "original"),
                          test::write_tiny_wan_diffusers(root / "diffusers")}) {
    const auto out = root / (dir.filename().string() + ".y4m");
    const test::CliRun run = run_cli("generate --model " + dir.string() + kTinyRun +
                                     " --free-text-encoder --vae-device cpu --text-encoder-device cpu --quiet --output " +
                                     out.string());
    ASSERT_EQ(run.exit_code, 0) << run.output;
    EXPECT_TRUE(contains(run.output, "wrote " + out.string()));
    const Video video = read_video(out);
    EXPECT_EQ(video.frames, 5);
    EXPECT_EQ(video.height, 32);
    EXPECT_EQ(video.width, 48);
  }
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

}  // namespace
}  // namespace svgear
