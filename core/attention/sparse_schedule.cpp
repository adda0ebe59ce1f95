#include "core/attention/sparse_schedule.h"

#include <algorithm>
#include <cmath>

namespace svgear {

int dense_step_count(double dense_warmup_steps, int num_steps) {
  return static_cast<int>(std::floor(dense_warmup_steps * num_steps));
}

int dense_layer_count(double dense_layers, int num_layers) {
  return std::max(1, static_cast<int>(std::floor(dense_layers * num_layers)));
}

bool call_is_dense(const AttentionConfig& config, const AttentionCall& call) {
  return call.step < dense_step_count(config.dense_warmup_steps, call.num_steps) ||
         call.layer < dense_layer_count(config.dense_layers, call.num_layers);
}

bool call_warms_centroids(const AttentionConfig& config, const AttentionCall& call) {
  return config.kmeans_in_warmup && call.step < dense_step_count(config.dense_warmup_steps, call.num_steps) &&
         call.layer >= dense_layer_count(config.dense_layers, call.num_layers);
}

}  // namespace svgear
