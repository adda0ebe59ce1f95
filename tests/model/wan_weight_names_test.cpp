#include "core/model/wan_weight_names.h"

#include <gtest/gtest.h>

#include "core/model/wan_weights.h"
#include "tests/model/tiny_wan.h"

namespace svgear {
namespace {

TEST(WanWeightNames, DiffusersToOriginal) {
  EXPECT_EQ(wan_original_name("blocks.12.attn1.to_q.weight"), "blocks.12.self_attn.q.weight");
  EXPECT_EQ(wan_original_name("blocks.0.attn1.to_out.0.bias"), "blocks.0.self_attn.o.bias");
  EXPECT_EQ(wan_original_name("blocks.0.attn1.norm_k.weight"), "blocks.0.self_attn.norm_k.weight");
  EXPECT_EQ(wan_original_name("blocks.3.attn2.to_v.weight"), "blocks.3.cross_attn.v.weight");
  EXPECT_EQ(wan_original_name("blocks.3.attn2.norm_q.weight"), "blocks.3.cross_attn.norm_q.weight");
  EXPECT_EQ(wan_original_name("blocks.1.ffn.net.0.proj.weight"), "blocks.1.ffn.0.weight");
  EXPECT_EQ(wan_original_name("blocks.1.ffn.net.2.bias"), "blocks.1.ffn.2.bias");
  EXPECT_EQ(wan_original_name("blocks.1.norm2.weight"), "blocks.1.norm3.weight");
  EXPECT_EQ(wan_original_name("blocks.1.norm3.weight"), "blocks.1.norm2.weight");
  EXPECT_EQ(wan_original_name("blocks.29.scale_shift_table"), "blocks.29.modulation");
  EXPECT_EQ(wan_original_name("scale_shift_table"), "head.modulation");
  EXPECT_EQ(wan_original_name("proj_out.weight"), "head.head.weight");
  EXPECT_EQ(wan_original_name("condition_embedder.time_embedder.linear_2.bias"),
            "time_embedding.2.bias");
  EXPECT_EQ(wan_original_name("condition_embedder.text_embedder.linear_1.weight"),
            "text_embedding.0.weight");
  EXPECT_EQ(wan_original_name("condition_embedder.time_proj.weight"), "time_projection.1.weight");
  EXPECT_EQ(wan_original_name("patch_embedding.weight"), "patch_embedding.weight");
}

TEST(WanWeightNames, DiffusersNamesAreRecognised) {
  EXPECT_TRUE(wan_is_diffusers_name("blocks.0.attn1.to_q.weight"));
  EXPECT_TRUE(wan_is_diffusers_name("scale_shift_table"));
  EXPECT_TRUE(wan_is_diffusers_name("condition_embedder.time_proj.bias"));
  EXPECT_FALSE(wan_is_diffusers_name("blocks.0.self_attn.q.weight"));
  EXPECT_FALSE(wan_is_diffusers_name("blocks.0.norm3.weight"));
  EXPECT_FALSE(wan_is_diffusers_name("patch_embedding.weight"));
}

TEST(WanWeightNames, EveryOriginalNameRoundTrips) {
  WanWeights meta = WanWeights::meta(WanConfig{});
  for (const auto& [name, tensor] : meta.state_dict()) {
    const std::string diffusers = wan_diffusers_name(name);
    EXPECT_EQ(wan_original_name(diffusers), name) << diffusers;
    EXPECT_TRUE(name.starts_with("patch_embedding") || wan_is_diffusers_name(diffusers) ||
                diffusers.find(".norm2.") != std::string::npos)
        << name << " → " << diffusers;
  }
}

}  // namespace
}  // namespace svgear
