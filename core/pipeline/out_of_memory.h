#pragma once
// Out of memory in a generation: the least memory one denoising step of a request holds, checked
// before the run starts, and LibTorch's allocation failures told apart from other errors. Both end
// in one message that says what to lower, never in an allocator's text.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <c10/util/Exception.h>

#include "core/decoder/latent_decoder.h"
#include "core/model/wan_config.h"

namespace svgear {

// A lower bound on the bytes one DiT step holds at once beside the weights: the float32 sample and
// its copy in `dtype` (none for float32), the float32 token stream [N, dim] and the FFN's hidden [N, ffn_dim] in
// `dtype`, which coexist in every block (wan_block.cpp), and with guidance the shared prefix (a
// float32 stream and a branch in `dtype`, wan_dit.h) beside them through the first pass. Real
// steps hold more (attention, the sampler's history), so a request this refuses could never run,
// and one it passes still may not.
int64_t least_step_bytes(const LatentShape& latent, const WanConfig& dit, c10::ScalarType dtype, bool guidance);

// The bytes one DiT step holds at its peak on the CPU: least_step_bytes and the rest of a block's
// live set at its self-attention (wan_block.cpp: the new residual sum and the norm and rotation
// temporaries of q and k in float32; the norm, q, k, v, the attention's output, its tokens-first
// copy and the projection in `dtype`), counted as 4 float32 and 8 `dtype` [N, dim] tensors. Measured
// with a counting allocator on float32 random models (OutOfMemory.HostStepBytesCoverAMeasuredStep):
// 10.4 [N, dim] beyond least_step_bytes, with or without guidance. Past the host's memory a step is
// not an error but the kernel's out-of-memory kill, so on the CPU this estimate, not the lower
// bound, decides; on a GPU an allocation that fails is an error the run reports.
int64_t host_step_bytes(const LatentShape& latent, const WanConfig& dit, c10::ScalarType dtype, bool guidance);

// host_step_bytes on the CPU, least_step_bytes on a GPU.
int64_t step_bytes_to_check(const LatentShape& latent, const WanConfig& dit, c10::ScalarType dtype, bool guidance,
                            const c10::Device& device);

// "" when `needed` fits in `available` (or `available` is unknown); else the message for a step of
// `tokens` tokens, saying what it needs, what `device` has, what to lower, and then `remedies`
// (Model::memory_remedies: what else would free that memory).
std::string step_memory_shortfall(int64_t needed, std::optional<int64_t> available, int64_t tokens,
                                  const c10::Device& device, const std::vector<std::string>& remedies = {});

// Where `error` says memory ran out, for work on `device`: a GPU (LibTorch's OutOfMemoryError, a
// GPU library's or the runtime's allocation: core/allocation_failure.h; `device` when it is one,
// else "cuda", a part of the work on a GPU), the CPU (LibTorch's CPU allocator, std::bad_alloc:
// the host, whatever the work's device), or nowhere (another error).
std::optional<c10::Device> out_of_memory_on(const std::exception& error, const c10::Device& device);

// What a run that ran out of memory on `device` says: what to lower, `remedies`, and on a GPU the CPU.
std::string out_of_memory_message(const c10::Device& device, const std::vector<std::string>& remedies = {});

}  // namespace svgear
