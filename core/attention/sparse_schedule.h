#pragma once
// Sparse schedule: which self-attention calls stay dense under SVG2 / SVG-EAR [spec §2.1, P11].
// The first n_dense_steps denoising steps and the first n_dense_layers layers run dense attention.

#include "core/attention/attention_backend.h"
#include "core/attention/attention_config.h"

namespace svgear {

// floor(dense_warmup_steps · num_steps), as the reference's int(first_times_fp * num_steps).
int dense_step_count(double dense_warmup_steps, int num_steps);

// max(1, floor(dense_layers · num_layers)): at least one dense layer, because 0.03 · 30 layers
// floors to none on Wan-1.3B (spec P11). Layer 0 being dense also lets guidance's two passes share
// its self-attention (WanDiT::forward_prefix).
int dense_layer_count(double dense_layers, int num_layers);

// Whether `call` stays dense under `config`'s warm-up fractions.
bool call_is_dense(const AttentionConfig& config, const AttentionCall& call);

// Whether a dense `call` should still cluster Q and K to warm the centroid cache: a warm-up step
// of a layer that turns sparse later, with config.kmeans_in_warmup set.
bool call_warms_centroids(const AttentionConfig& config, const AttentionCall& call);

}  // namespace svgear
