// Attention presets: named presets, JSON fields applied on a base config, round trips and the
// errors a user sees for a bad preset file.

#include "core/attention/attention_preset.h"

#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/user_error.h"
#include "tests/support/test_paths.h"

namespace svgear {
namespace {

std::string error_of(const nlohmann::json& j) {
  try {
    attention_config_from_json(j, AttentionConfig{});
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

// The defaults are the spec's numbers (../shared/reference/svg-ear-spec.md §2.1–§2.8, §3.4, §3.6),
// written out here rather than taken from the code, so that a changed default fails.
TEST(AttentionConfig, DefaultsAreTheSpecs) {
  const AttentionConfig c;
  EXPECT_EQ(c.mode, AttentionMode::Dense);  // sparse attention is asked for
  EXPECT_EQ(c.q_clusters, 0);  // by the frame size:
  EXPECT_EQ(default_q_clusters(480, 832), 200);  // the 480p rows, either orientation
  EXPECT_EQ(default_q_clusters(832, 480), 200);
  EXPECT_EQ(default_q_clusters(64, 64), 200);
  EXPECT_EQ(default_q_clusters(720, 1280), 300);  // the 720p rows
  EXPECT_EQ(default_q_clusters(704, 1280), 300);  // Wan2.2-TI2V-5B's 720p
  EXPECT_EQ(default_q_clusters(480, 848), 300);   // just past 832×480
  EXPECT_EQ(c.k_clusters, 1000);
  EXPECT_EQ(c.top_p, 0.9);
  EXPECT_EQ(c.min_kc_ratio, 0.10);
  EXPECT_EQ(c.guaranteed_ratio, 0.05);
  EXPECT_EQ(c.gamma, 1.0);
  EXPECT_EQ(c.kmeans_init_iters, 50);
  EXPECT_EQ(c.kmeans_step_iters, 2);
  EXPECT_EQ(c.dense_warmup_steps, 0.2);
  EXPECT_EQ(c.dense_layers, 0.03);
  EXPECT_FALSE(c.kmeans_in_warmup);
}

TEST(AttentionPreset, NamedPresetsTradeBudgetAndWarmUp) {
  const AttentionConfig quality = named_attention_preset("quality");
  const AttentionConfig balanced = named_attention_preset("balanced");
  const AttentionConfig fast = named_attention_preset("fast");
  for (const AttentionConfig& c : {quality, balanced, fast}) EXPECT_EQ(c.mode, AttentionMode::SvgEar);
  EXPECT_GT(quality.top_p, balanced.top_p);
  EXPECT_GT(balanced.top_p, fast.top_p);
  EXPECT_GT(quality.dense_warmup_steps, balanced.dense_warmup_steps);
  EXPECT_GT(balanced.dense_warmup_steps, fast.dense_warmup_steps);
  // Balanced is the spec's default budget.
  EXPECT_EQ(balanced.top_p, AttentionConfig{}.top_p);
  EXPECT_EQ(balanced.dense_warmup_steps, AttentionConfig{}.dense_warmup_steps);
  try {
    named_attention_preset("turbo");
    FAIL() << "an unknown preset name must be refused";
  } catch (const UserError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'turbo'"), std::string::npos) << message;
    EXPECT_NE(message.find("quality, balanced or fast"), std::string::npos) << message;
    EXPECT_EQ(message.find("did you mean"), std::string::npos) << message;  // no near name
  }
  // A typo, or another case, is named.
  for (const char* typed : {"balaced", "Balanced", "qualty"}) {
    try {
      named_attention_preset(typed);
      ADD_FAILURE() << typed;
    } catch (const UserError& e) {
      const std::string expected = std::string(typed) == "qualty" ? "'quality'" : "'balanced'";
      EXPECT_NE(std::string(e.what()).find("(did you mean " + expected + "? choose quality, balanced or fast"),
                std::string::npos)
          << e.what();
    }
  }
}

// Every field with a value of its own, none the default nor another field's: a key read into the
// wrong field, or written under the wrong key, fails.
TEST(AttentionPreset, JsonFieldsApplyOnTheBaseAndRoundTrip) {
  const nlohmann::json every_field = {
      {"mode", "svg2"},           {"q_clusters", 123},          {"k_clusters", 456},
      {"top_p", 0.85},            {"min_kc_ratio", 0.15},       {"guaranteed_ratio", 0.07},
      {"gamma", 1.5},             {"kmeans_init_iters", 31},    {"kmeans_step_iters", 3},
      {"dense_warmup_steps", 0.25}, {"dense_layers", 0.06},     {"kmeans_in_warmup", true}};
  const AttentionConfig c = attention_config_from_json(every_field, AttentionConfig{});
  EXPECT_EQ(c.mode, AttentionMode::Svg2);
  EXPECT_EQ(c.q_clusters, 123);
  EXPECT_EQ(c.k_clusters, 456);
  EXPECT_DOUBLE_EQ(c.top_p, 0.85);
  EXPECT_DOUBLE_EQ(c.min_kc_ratio, 0.15);
  EXPECT_DOUBLE_EQ(c.guaranteed_ratio, 0.07);
  EXPECT_DOUBLE_EQ(c.gamma, 1.5);
  EXPECT_EQ(c.kmeans_init_iters, 31);
  EXPECT_EQ(c.kmeans_step_iters, 3);
  EXPECT_DOUBLE_EQ(c.dense_warmup_steps, 0.25);
  EXPECT_DOUBLE_EQ(c.dense_layers, 0.06);
  EXPECT_TRUE(c.kmeans_in_warmup);

  // Every field is written under its own key, so a run record's attention object reproduces the run.
  const nlohmann::json j = attention_config_to_json(c);
  EXPECT_EQ(j, every_field);
  EXPECT_EQ(attention_config_to_json(attention_config_from_json(j, AttentionConfig{})), j);

  // Fields the JSON leaves out keep the base's values, not the defaults.
  AttentionConfig base = c;
  base.mode = AttentionMode::SvgEar;
  const AttentionConfig partial =
      attention_config_from_json({{"mode", "dense"}, {"top_p", 0.6}, {"kmeans_in_warmup", false}}, base);
  nlohmann::json expected = every_field;
  expected["mode"] = "dense";
  expected["top_p"] = 0.6;
  expected["kmeans_in_warmup"] = false;
  EXPECT_EQ(attention_config_to_json(partial), expected);
}

TEST(AttentionPreset, BadFieldsSayWhatIsWrong) {
  std::string e = error_of({{"topp", 0.9}});
  EXPECT_NE(e.find("unknown attention field 'topp' (did you mean 'top_p'? known: mode, q_clusters, k_clusters"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("dense_layers, kmeans_in_warmup)"), std::string::npos) << "the known keys are listed: " << e;
  e = error_of({{"q_clusters", 1.5}});
  EXPECT_NE(e.find("'q_clusters' must be a whole number"), std::string::npos) << e;
  e = error_of({{"kmeans_in_warmup", 1}});
  EXPECT_NE(e.find("must be true or false"), std::string::npos) << e;
  e = error_of({{"top_p", 1.5}});
  EXPECT_NE(e.find("top_p (--top-p) must be in (0, 1]"), std::string::npos) << e;
  // Values no call should run with, which k-means could not be stopped inside (2^31 iterations).
  e = error_of({{"kmeans_init_iters", 2147483647}});
  EXPECT_NE(e.find("kmeans_init_iters must be between 1 and 1000 (got 2147483647)"), std::string::npos) << e;
  e = error_of({{"kmeans_step_iters", 1001}});
  EXPECT_NE(e.find("kmeans_step_iters must be between 1 and 1000"), std::string::npos) << e;
  e = error_of({{"gamma", 1e308}});
  EXPECT_NE(e.find("gamma must be in (0, 100] (got 1e+308)"), std::string::npos) << e;
  e = error_of({{"mode", "sparse"}});
  EXPECT_NE(e.find("unknown attention mode 'sparse' (choose dense, svg2 or svgear)"), std::string::npos) << e;
  e = error_of({{"mode", "SVG2"}});
  EXPECT_NE(e.find("unknown attention mode 'SVG2' (did you mean 'svg2'? choose"), std::string::npos) << e;
  e = error_of({{"mode", "svg\u0435ar"}});  // a Cyrillic е, which the message cannot show
  EXPECT_NE(e.find("(did you mean 'svgear' (its U+0435 is Cyrillic)? choose"), std::string::npos) << e;
  e = error_of(nlohmann::json::array());
  EXPECT_NE(e.find("must be a JSON object"), std::string::npos) << e;
}

TEST(AttentionPreset, FilesLoadAndBadFilesNameThemselves) {
  const std::filesystem::path dir = test::scratch_dir("attention_preset");
  const std::filesystem::path good = dir / "mine.json";
  std::ofstream(good) << R"({"mode": "svgear", "top_p": 0.7, "k_clusters": 500})";
  const AttentionConfig c = load_attention_preset(good.string(), AttentionConfig{});
  EXPECT_DOUBLE_EQ(c.top_p, 0.7);
  EXPECT_EQ(c.k_clusters, 500);
  EXPECT_EQ(c.q_clusters, AttentionConfig{}.q_clusters);
  // A file without "mode" keeps the command's (compare's default is svgear: a preset of only a
  // budget once made it compare dense with dense).
  const std::filesystem::path budget_only = dir / "budget.json";
  std::ofstream(budget_only) << R"({"top_p": 0.85})";
  AttentionConfig compare_defaults;
  compare_defaults.mode = AttentionMode::SvgEar;
  const AttentionConfig b = load_attention_preset(budget_only.string(), compare_defaults);
  EXPECT_EQ(b.mode, AttentionMode::SvgEar);
  EXPECT_DOUBLE_EQ(b.top_p, 0.85);
  EXPECT_EQ(load_attention_preset("fast", compare_defaults).top_p, 0.8);
  // Applied to a dense run (generate's default), the same file had set a budget and run dense, the
  // record listing the budget: refused, naming the file, its fields and the missing mode.
  try {
    load_attention_preset(budget_only.string(), AttentionConfig{});
    FAIL() << "a budget without a mode, for a dense run, must be refused";
  } catch (const UserError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(budget_only.string() + " sets top_p but no \"mode\""), std::string::npos) << message;
    EXPECT_NE(message.find("add \"mode\": \"svgear\""), std::string::npos) << message;
  }
  // A file that names dense itself, or sets nothing, says what it means.
  const std::filesystem::path dense = dir / "dense.json";
  std::ofstream(dense) << R"({"mode": "dense", "top_p": 0.85})";
  EXPECT_EQ(load_attention_preset(dense.string(), compare_defaults).mode, AttentionMode::Dense);
  const std::filesystem::path empty = dir / "empty.json";
  std::ofstream(empty) << "{}";
  EXPECT_EQ(load_attention_preset(empty.string(), AttentionConfig{}).mode, AttentionMode::Dense);

  const std::filesystem::path broken = dir / "broken.json";
  std::ofstream(broken) << R"({"top_p": 0.7,)";
  const std::filesystem::path fifo = dir / "fifo.json";  // opening it would wait for a writer
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const std::filesystem::path& path : {broken, dir / "missing.json", fifo}) {
    try {
      load_attention_preset(path.string(), AttentionConfig{});
      FAIL() << path << " must be refused";
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    }
  }
}

// A key given twice is refused with the key and the file: nlohmann alone keeps the last value, so
// the run would use 0.95 where the user may have meant 0.5.
TEST(AttentionPreset, ARepeatedKeyIsRefused) {
  const std::filesystem::path twice = test::scratch_dir("attention_preset_repeated") / "twice.json";
  std::ofstream(twice) << R"({"top_p": 0.5, "k_clusters": 500, "top_p": 0.95})";
  try {
    load_attention_preset(twice.string(), AttentionConfig{});
    FAIL() << "a preset with a repeated key must be refused";
  } catch (const UserError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(twice.string()), std::string::npos) << message;
    EXPECT_NE(message.find("the key 'top_p' is given twice"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace svgear
