#include "core/attention/attention_backends.h"

#include <string>

#include "core/attention/dense_backend.h"
#include "core/attention/svg2_backend.h"
#include "core/attention/svgear_backend.h"
#include "core/user_error.h"

namespace svgear {

std::unique_ptr<AttentionBackend> make_attention_backend(const AttentionConfig& config, c10::Device device) {
  std::unique_ptr<AttentionBackend> backend;
  switch (config.mode) {
    case AttentionMode::Dense: backend = std::make_unique<DenseBackend>(); break;
    case AttentionMode::Svg2: backend = std::make_unique<Svg2Backend>(config); break;
    case AttentionMode::SvgEar: backend = std::make_unique<SvgEarBackend>(config); break;
    case AttentionMode::Unset: throw UserError("no attention mode chosen (choose dense, svg2 or svgear)");
  }
  std::string why;
  if (!backend->supports(config, device, &why)) {
    throw UserError(std::string("attention mode '") + attention_mode_name(config.mode) + "' cannot run on " +
                    device.str() + ": " + why);
  }
  return backend;
}

}  // namespace svgear
