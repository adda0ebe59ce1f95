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

// Tokens per DiT call for a latent of this shape.
int64_t step_tokens(const LatentShape& latent, const WanConfig& dit);

// A lower bound on the bytes one DiT step holds at once beside the weights: the float32 sample and
// its copy in `dtype` (none for float32), the float32 token stream [N, dim] and the FFN's hidden [N, ffn_dim] in
// `dtype`, which coexist in every block (wan_block.cpp), and with guidance the shared prefix (a
// float32 stream and a branch in `dtype`, wan_dit.h) beside them through the first pass. Real
// steps hold more (attention, the sampler's history), so a request this refuses could never run,
// and one it passes still may not.
int64_t least_step_bytes(const LatentShape& latent, const WanConfig& dit, c10::ScalarType dtype, bool guidance);

// "" when `needed` fits in `available` (or `available` is unknown); else the message for a step of
// `tokens` tokens, saying what it needs, what `device` has, what to lower, and then `remedies`
// (Model::memory_remedies: what else would free that memory).
std::string step_memory_shortfall(int64_t needed, std::optional<int64_t> available, int64_t tokens,
                                  const c10::Device& device, const std::vector<std::string>& remedies = {});

// Whether `error` is LibTorch's CPU allocator failing (it throws a plain c10::Error, and its text
// has changed between versions: "not enough memory", then "can't allocate memory").
bool is_host_allocation_failure(const c10::Error& error);

// What a run that ran out of memory on `device` says: what to lower, `remedies`, and on a GPU the CPU.
std::string out_of_memory_message(const c10::Device& device, const std::vector<std::string>& remedies = {});

}  // namespace svgear
