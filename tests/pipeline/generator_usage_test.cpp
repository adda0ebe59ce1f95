// Compiles and runs the "basic usage" example at the top of core/pipeline/generator.h, so the
// example cannot rot.

#include <gtest/gtest.h>

#include "core/media/video_output.h"
#include "core/pipeline/generator.h"
#include "core/pipeline/random_model.h"
#include "tests/support/test_paths.h"

namespace {

TEST(GeneratorUsage, HeaderExampleWorks) {
  const auto dir = svgear::test::scratch_dir("usage");
  svgear::RandomModelSpec spec = svgear::random_model_preset("tiny");
  spec.defaults.steps = 2;
  svgear::write_random_model(dir / "model", spec);

  // --- the example, with the model folder and output path swapped for scratch paths ---
  auto model = svgear::Model::load(dir / "model", svgear::parse_device("auto"));
  svgear::Generator generator(*model);
  svgear::GenerationRequest request;
  request.prompt = "a red circle moves left over a blue sky";
  request.seed = 42;
  svgear::CancelToken cancel;
  svgear::EventSink sink;
  svgear::GenerationResult result = generator.run(request, sink, cancel);
  if (result.status == svgear::GenerationStatus::Finished)
    svgear::write_video(result.video, dir / "out.mp4");
  // --- end of the example ---

  ASSERT_EQ(result.status, svgear::GenerationStatus::Finished) << result.error;
  EXPECT_TRUE(std::filesystem::exists(dir / "out.mp4") || std::filesystem::exists(dir / "out.y4m"));
}

}  // namespace
