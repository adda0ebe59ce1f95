#include "core/attention/sparse_schedule.h"

#include <gtest/gtest.h>

namespace svgear {
namespace {

TEST(SparseSchedule, DenseStepsFloorTheFraction) {
  EXPECT_EQ(dense_step_count(0.2, 50), 10);   // Wan T2V 720p
  EXPECT_EQ(dense_step_count(0.35, 40), 14);  // Wan I2V 720p
  EXPECT_EQ(dense_step_count(0.04, 50), 2);   // Hunyuan 480p
  EXPECT_EQ(dense_step_count(0.2, 4), 0);
  EXPECT_EQ(dense_step_count(0.0, 50), 0);
}

TEST(SparseSchedule, AtLeastOneDenseLayer) {
  EXPECT_EQ(dense_layer_count(0.03, 30), 1);  // floors to 0 on Wan-1.3B: kept at one (P11)
  EXPECT_EQ(dense_layer_count(0.03, 40), 1);
  EXPECT_EQ(dense_layer_count(0.03, 60), 1);
  EXPECT_EQ(dense_layer_count(0.1, 40), 4);
  EXPECT_EQ(dense_layer_count(0.0, 30), 1);
}

TEST(SparseSchedule, FirstStepsAndFirstLayersAreDense) {
  AttentionConfig config;
  config.dense_warmup_steps = 0.2;
  config.dense_layers = 0.1;
  AttentionCall call;
  call.num_steps = 10;   // steps 0, 1 dense
  call.num_layers = 30;  // layers 0, 1, 2 dense
  auto dense_at = [&](int step, int layer) {
    call.step = step;
    call.layer = layer;
    return call_is_dense(config, call);
  };
  EXPECT_TRUE(dense_at(0, 10));
  EXPECT_TRUE(dense_at(1, 29));
  EXPECT_TRUE(dense_at(5, 0));
  EXPECT_TRUE(dense_at(5, 2));
  EXPECT_FALSE(dense_at(2, 3));
  EXPECT_FALSE(dense_at(9, 29));
}

TEST(SparseSchedule, WarmUpClustersOnlyWhenAskedAndOnlyInLayersThatTurnSparse) {
  AttentionConfig config;
  config.dense_warmup_steps = 0.2;
  config.dense_layers = 0.1;
  AttentionCall call;
  call.num_steps = 10;   // steps 0, 1 dense
  call.num_layers = 30;  // layers 0, 1, 2 dense
  auto warms_at = [&](int step, int layer) {
    call.step = step;
    call.layer = layer;
    return call_warms_centroids(config, call);
  };
  EXPECT_FALSE(warms_at(0, 10));  // off by default
  config.kmeans_in_warmup = true;
  EXPECT_TRUE(warms_at(0, 10));
  EXPECT_TRUE(warms_at(1, 29));
  EXPECT_FALSE(warms_at(1, 2));   // a dense layer never needs centroids
  EXPECT_FALSE(warms_at(2, 10));  // sparse steps cluster anyway
}

}  // namespace
}  // namespace svgear
