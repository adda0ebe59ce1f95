// The estimate `svgear train` checks a CPU run against covers what a step holds, measured by a
// counting allocator, and is not far above it (which would refuse batches that fit).

#include "core/training/training_step_memory.h"

#include <cstdio>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/training/flow_matching_trainer.h"
#include "tests/support/peak_cpu_allocator.h"

namespace svgear {
namespace {

TEST(TrainingStepMemory, CoversAMeasuredStep) {
  test::PeakCpuAllocator& counting = test::PeakCpuAllocator::installed();
  // shapes-tiny and variants of it, each dimension the estimate reads changed alone; then shapes-s.
  struct Variant {
    const char* name;
    int dim, ffn_dim, layers, heads, frames, side;
  };
  for (const Variant& v : {Variant{"shapes-tiny", 64, 128, 2, 2, 8, 32}, Variant{"ffn 512", 64, 512, 2, 2, 8, 32},
                           Variant{"dim 128", 128, 128, 2, 2, 8, 32}, Variant{"4 layers", 64, 128, 4, 2, 8, 32},
                           Variant{"4 heads", 64, 128, 2, 4, 8, 32}, Variant{"16 frames", 64, 128, 2, 2, 16, 32},
                           Variant{"64x64", 64, 128, 2, 2, 8, 64}, Variant{"shapes-s", 256, 768, 6, 4, 16, 64}}) {
    for (const int64_t batch : {1, 2}) {
      ShapesModelSpec spec = shapes_model_preset(std::string(v.name) == "shapes-s" ? "shapes-s" : "shapes-tiny");
      spec.dit.dim = v.dim;
      spec.dit.ffn_dim = v.ffn_dim;
      spec.dit.num_layers = v.layers;
      spec.dit.num_heads = v.heads;
      spec.clip = {v.frames, v.side, v.side};
      TrainingRecipe recipe;
      recipe.batch = batch;
      FlowMatchingTrainer trainer(spec, recipe, at::kCPU);
      const int64_t start = counting.restart();
      trainer.step();
      const int64_t held = counting.peak() - start;
      const int64_t estimate = training_step_host_bytes(spec, batch);
      std::printf("[ measured ] %s, batch %lld: %lld bytes held at the peak, estimate %lld (%.2fx)\n", v.name,
                  static_cast<long long>(batch), static_cast<long long>(held), static_cast<long long>(estimate),
                  double(estimate) / double(held));
      EXPECT_GE(estimate, held) << v.name << ", batch " << batch;
      EXPECT_LT(estimate, held * 3 / 2) << v.name << ", batch " << batch << ": far above the step";
    }
  }
}

}  // namespace
}  // namespace svgear
