#include "core/attention/attention_config.h"

#include <cstdint>

#include "core/text/nearest_words.h"
#include "core/user_error.h"

namespace svgear {

const char* attention_mode_name(AttentionMode mode) {
  switch (mode) {
    case AttentionMode::Dense: return "dense";
    case AttentionMode::Svg2: return "svg2";
    case AttentionMode::SvgEar: return "svgear";
    case AttentionMode::Unset: break;
  }
  return "unset";
}

AttentionMode parse_attention_mode(std::string_view name) {
  if (name == "dense") return AttentionMode::Dense;
  if (name == "svg2") return AttentionMode::Svg2;
  if (name == "svgear" || name == "svg-ear") return AttentionMode::SvgEar;
  throw UserError("unknown attention mode '" + std::string(name) + "' (" +
                  typo_hint(name, {"dense", "svg2", "svgear"}) + "choose dense, svg2 or svgear)");
}

int default_q_clusters(int height, int width) { return int64_t(height) * width > 832 * 480 ? 300 : 200; }

}  // namespace svgear
