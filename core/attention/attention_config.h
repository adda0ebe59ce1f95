#pragma once
// AttentionConfig: which self-attention backend runs and its SVG2 / SVG-EAR knobs.
// Defaults are the spec's (../shared/reference/svg-ear-spec.md, section in brackets).

#include <string>
#include <string_view>

namespace svgear {

enum class AttentionMode { Unset, Dense, Svg2, SvgEar };

const char* attention_mode_name(AttentionMode mode);       // "dense", "svg2", "svgear"
AttentionMode parse_attention_mode(std::string_view name);  // throws UserError listing the choices

struct AttentionConfig {
  AttentionMode mode = AttentionMode::Dense;
  int q_clusters = 0;               // Q_C; 0: by the frame size, default_q_clusters [§2.8]
  int k_clusters = 1000;            // K_C [§2.8]
  double top_p = 0.9;               // budget [§2.5, §3.4]
  double min_kc_ratio = 0.10;       // SVG2 always-kept key clusters [§2.5]
  double guaranteed_ratio = 0.05;   // SVG-EAR r [§3.4]
  double gamma = 1.0;               // error-per-area exponent [§3.3]
  int kmeans_init_iters = 50;       // first call per layer [§2.2]
  int kmeans_step_iters = 2;        // warm-started later calls [§2.2]
  double dense_warmup_steps = 0.2;  // fraction of steps kept dense [§2.1]
  double dense_layers = 0.03;       // fraction of layers kept dense, at least one layer [§6 P11]
  // Also run k-means in the dense warm-up steps (the reference's zero_step_kmeans_init), so the
  // 50-iteration init is paid while attention is still dense, not at the first sparse step [§2.1].
  bool kmeans_in_warmup = false;
};

// Q_C as the reference's scripts choose it for frames of `height` × `width` pixels [§2.8, §3.6]: 300
// for frames larger than 832×480 (their 720p rows), 200 up to that (their 480p rows and the spec's
// suggestion for Wan2.1-1.3B). GenerationRequest::resolve fills a Q_C of 0 with it.
int default_q_clusters(int height, int width);

}  // namespace svgear
