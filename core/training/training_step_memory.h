#pragma once
// The host memory one training step holds (FlowMatchingTrainer::step on the CPU), checked before a
// run starts: past the host's memory a step is not an allocation error but the kernel's
// out-of-memory kill, without a word (`svgear train --batch 4096` on shapes-l took ~18 GB first).

#include <cstdint>

#include "core/training/shapes_model_spec.h"

namespace svgear {

// Bytes one clip of a batch adds to a CPU step's peak: its activations kept for the backward pass
// and the transients beside them, per token 26·dim + 2.2·ffn_dim floats in each block, 9·dim
// outside the blocks, 4 per pixel value (the clip, its noise, target, velocity, squared error),
// and its two rendered batches' bytes (the one trained on and the one prefetched). Fitted to a
// counting allocator's peaks on shapes-tiny variants (TrainingStepMemory.CoversAMeasuredStep:
// 25.2·dim + 2.1·ffn_dim, 8.4·dim, 3.5 per pixel value), 8–27% above them.
int64_t training_clip_host_bytes(const ShapesModelSpec& spec);

// A CPU step of `batch` clips: batch × training_clip_host_bytes. The step's fixed part (the
// gradients, the optimiser's temporaries) is smaller than the estimate's margin on one clip.
int64_t training_step_host_bytes(const ShapesModelSpec& spec, int64_t batch);

}  // namespace svgear
