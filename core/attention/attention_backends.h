#pragma once
// make_attention_backend: the one place that maps an AttentionMode to its backend class. The
// generator, `svgear compare` and `svgear bench attention` all build backends through it, so a
// mode that cannot run on a device is refused up front with the backend's own reason.

#include <memory>

#include <c10/core/Device.h>

#include "core/attention/attention_backend.h"
#include "core/attention/attention_config.h"

namespace svgear {

// dense → DenseBackend, svg2 → Svg2Backend, svgear → SvgEarBackend. Throws UserError when the
// backend does not support `config` on `device` (the message says why and what to use instead).
std::unique_ptr<AttentionBackend> make_attention_backend(const AttentionConfig& config, c10::Device device);

}  // namespace svgear
