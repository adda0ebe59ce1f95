#include "core/model/wan_config.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/user_error.h"
#include "tests/model/tiny_wan.h"

namespace svgear {
namespace {

// The official Wan2.1-T2V-1.3B config.json: no patch_size, text_dim, qk_norm, cross_attn_norm.
nlohmann::json official_1_3b() {
  return nlohmann::json::parse(R"({"_class_name": "WanModel", "_diffusers_version": "0.30.0",
    "dim": 1536, "eps": 1e-06, "ffn_dim": 8960, "freq_dim": 256, "in_dim": 16,
    "model_type": "t2v", "num_heads": 12, "num_layers": 30, "out_dim": 16, "text_len": 512})");
}

// The message of the UserError that from_json throws for `json`, or "" when it does not throw.
std::string error_of(const nlohmann::json& json) {
  try {
    WanConfig::from_json(json);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(WanConfig, ReadsTheTinyTestModel) {
  WanConfig c = test::tiny_wan_config();
  EXPECT_EQ(c.model_type, "t2v");
  EXPECT_EQ(c.patch_size, (std::array<int, 3>{1, 2, 2}));
  EXPECT_EQ(c.text_len, 16);
  EXPECT_EQ(c.in_dim, 16);
  EXPECT_EQ(c.dim, 128);
  EXPECT_EQ(c.ffn_dim, 256);
  EXPECT_EQ(c.freq_dim, 256);
  EXPECT_EQ(c.text_dim, 64);
  EXPECT_EQ(c.out_dim, 16);
  EXPECT_EQ(c.num_heads, 2);
  EXPECT_EQ(c.num_layers, 2);
  EXPECT_TRUE(c.qk_norm);
  EXPECT_TRUE(c.cross_attn_norm);
  EXPECT_DOUBLE_EQ(c.eps, 1e-6);
  EXPECT_EQ(c.head_dim(), 64);
}

// Upstream Wan 2.1's values (wan/configs/wan_t2v_1_3B.py and WanModel.__init__; see
// shared/reference/anchors.md), written out here rather than taken from WanConfig{}, so that a wrong
// default in WanConfig fails.
TEST(WanConfig, OfficialConfigGetsUpstreamDefaultsForOmittedFields) {
  const WanConfig c = WanConfig::from_json(official_1_3b());
  // Left out of the official file: upstream's defaults.
  EXPECT_EQ(c.patch_size, (std::array<int, 3>{1, 2, 2}));
  EXPECT_EQ(c.text_dim, 4096);
  EXPECT_TRUE(c.qk_norm);
  EXPECT_TRUE(c.cross_attn_norm);
  // In the file: read from it.
  EXPECT_EQ(c.model_type, "t2v");
  EXPECT_EQ(c.text_len, 512);
  EXPECT_EQ(c.in_dim, 16);
  EXPECT_EQ(c.dim, 1536);
  EXPECT_EQ(c.ffn_dim, 8960);
  EXPECT_EQ(c.freq_dim, 256);
  EXPECT_EQ(c.out_dim, 16);
  EXPECT_EQ(c.num_heads, 12);
  EXPECT_EQ(c.num_layers, 30);
  EXPECT_DOUBLE_EQ(c.eps, 1e-6);
  EXPECT_EQ(c.head_dim(), 128);
  // Global attention: window_size (-1, -1), written as such and accepted when a file states it.
  const nlohmann::json written = c.to_json();
  EXPECT_EQ(written.at("window_size"), nlohmann::json({-1, -1}));
  nlohmann::json stated = official_1_3b();
  stated["window_size"] = {-1, -1};
  EXPECT_EQ(error_of(stated), "");
  // The written config holds them under their own keys.
  EXPECT_EQ(written.at("patch_size"), nlohmann::json({1, 2, 2}));
  EXPECT_EQ(written.at("text_dim"), 4096);
  EXPECT_EQ(written.at("qk_norm"), true);
  EXPECT_EQ(written.at("cross_attn_norm"), true);
}

TEST(WanConfig, JsonRoundTrip) {
  WanConfig c;
  c.patch_size = {1, 4, 4};
  c.dim = 256;
  c.num_heads = 4;
  c.qk_norm = false;
  EXPECT_EQ(WanConfig::from_json(c.to_json()).to_json(), c.to_json());
}

TEST(WanConfig, ErrorsNameTheField) {
  nlohmann::json j = official_1_3b();
  j.erase("dim");
  EXPECT_NE(error_of(j).find("missing field 'dim'"), std::string::npos) << error_of(j);

  j = official_1_3b();
  j["num_layers"] = "thirty";
  EXPECT_NE(error_of(j).find("'num_layers' must be a whole number from 1 to 1073741824"), std::string::npos);

  j = official_1_3b();
  j["num_layers"] = 1 << 20;  // a million blocks' meta weights would take GBs before any check
  EXPECT_NE(error_of(j).find("more than a Wan DiT's (at most 256)"), std::string::npos) << error_of(j);

  j = official_1_3b();
  j["num_heads"] = 0;
  EXPECT_NE(error_of(j).find("'num_heads' must be a whole number from 1 to 1073741824"), std::string::npos);

  j = official_1_3b();
  j["num_heads"] = 7;
  EXPECT_NE(error_of(j).find("not a multiple of num_heads 7"), std::string::npos) << error_of(j);

  j = official_1_3b();
  j["dim"] = 12 * 3;
  EXPECT_NE(error_of(j).find("must be even"), std::string::npos) << error_of(j);

  j = official_1_3b();
  j["model_type"] = "i2v";
  EXPECT_NE(error_of(j).find("'i2v' is not supported"), std::string::npos) << error_of(j);

  j = official_1_3b();
  j["window_size"] = {256, 256};
  EXPECT_NE(error_of(j).find("window_size"), std::string::npos) << error_of(j);

  j = official_1_3b();
  j["eps"] = -1;
  EXPECT_NE(error_of(j).find("'eps' must be a positive number"), std::string::npos);

  j = official_1_3b();
  j["qk_norm"] = "rms_norm_across_heads";
  EXPECT_NE(error_of(j).find("'qk_norm' must be true or false"), std::string::npos);

  j = official_1_3b();
  j["patch_size"] = {1, 2};
  EXPECT_NE(error_of(j).find("'patch_size' must be [frames, height, width]"), std::string::npos);
  j["patch_size"] = {2048, 2048, 2048};  // a volume past int's range
  EXPECT_NE(error_of(j).find("'patch_size' must hold extents of at most 64"), std::string::npos);

  EXPECT_NE(error_of(nlohmann::json::array()).find("expected a JSON object"), std::string::npos);
}

// Each field within its bound, but a weight of two of them past int64's bytes (time_projection's
// [6·dim, dim] at dim 7e8): refused by name, not left to overflow the meta weights' shapes.
TEST(WanConfig, AWeightPastAnyCheckpointIsRefused) {
  nlohmann::json j = official_1_3b();
  j["dim"] = 700000000;
  j["num_heads"] = 1;
  EXPECT_NE(error_of(j).find("the weight time_projection [6·dim, dim] would hold 2.94e+18 elements"), std::string::npos)
      << error_of(j);
  j = official_1_3b();
  j["ffn_dim"] = 1 << 30;  // 1536 × 2^30 = 1.6e12
  EXPECT_NE(error_of(j).find("the weight ffn [ffn_dim, dim] would hold 1.65e+12 elements"), std::string::npos)
      << error_of(j);
  j["ffn_dim"] = 1 << 20;  // 1.6e9: large, but a file could hold it
  EXPECT_EQ(error_of(j), "");
}

}  // namespace
}  // namespace svgear
