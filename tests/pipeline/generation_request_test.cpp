#include "core/pipeline/generation_request.h"

#include <gtest/gtest.h>

#include "core/pipeline/random_model.h"
#include "core/pipeline/request_limits.h"
#include "core/user_error.h"

namespace svgear {
namespace {

ModelManifest tiny_manifest() {
  const RandomModelSpec spec = random_model_preset("tiny");
  ModelManifest m;
  m.dit = spec.dit;
  m.defaults = spec.defaults;
  return m;
}

// A closed vocabulary of three words: "a red circle".
ModelManifest three_word_manifest() {
  ModelManifest m = tiny_manifest();
  m.text_encoder = TextEncoderKind::Vocab;
  m.vocabulary = {"a", "red", "circle"};
  m.max_tokens = 16;
  return m;
}

std::string error_of_with(const GenerationRequest& r, const ModelManifest& m) {
  try {
    r.resolve(m);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

std::string error_of(const GenerationRequest& r) { return error_of_with(r, tiny_manifest()); }

TEST(GenerationRequest, ResolveFillsDefaultsAndKeepsOverrides) {
  GenerationRequest r;
  r.prompt = "a red circle";
  r.steps = 7;
  const GenerationRequest resolved = r.resolve(tiny_manifest());
  EXPECT_EQ(*resolved.steps, 7);
  EXPECT_EQ(*resolved.frames, tiny_manifest().defaults.frames);
  EXPECT_EQ(*resolved.width, tiny_manifest().defaults.width);
  EXPECT_EQ(*resolved.sampler, tiny_manifest().defaults.sampler);
  EXPECT_EQ(*resolved.negative_prompt, "");
  EXPECT_EQ(resolved.to_json()["steps"], 7);
}

TEST(GenerationRequest, ImpossibleSizesSayWhatToChange) {
  GenerationRequest r;
  r.width = 30;  // patch is 4
  const std::string message = error_of(r);
  EXPECT_NE(message.find("width 30 is not a multiple of the patch size 4: try 28 or 32"), std::string::npos) << message;
  r.width = 0;
  EXPECT_NE(error_of(r).find("width (--width) must be between 4 and 8192 pixels (got 0)"), std::string::npos)
      << error_of(r);
  // Both sides at once, so fixing one does not only uncover the other, width first as --size
  // WxH gives them.
  r.height = 30;
  r.width = 66;
  EXPECT_NE(error_of(r).find("width 66 is not a multiple of the patch size 4: try 64 or 68\nheight 30 is not a "
                             "multiple of the patch size 4: try 28 or 32"),
            std::string::npos)
      << error_of(r);
  // Only sizes in range are offered: with a patch of 3, 8193 is past the largest side.
  ModelManifest three = tiny_manifest();
  three.dit.patch_size = {1, 3, 3};
  r.height = 30;
  r.width = 8191;
  EXPECT_NE(error_of_with(r, three).find("width 8191 is not a multiple of the patch size 3: try 8190"),
            std::string::npos)
      << error_of_with(r, three);
  EXPECT_EQ(error_of_with(r, three).find("8193"), std::string::npos) << error_of_with(r, three);
  r.height.reset();
  r.width.reset();
  r.steps = 0;
  EXPECT_NE(error_of(r).find("steps (--steps) must be between 1 and 1000 (got 0)"), std::string::npos);
  r.steps.reset();
  r.frames = -3;
  EXPECT_NE(error_of(r).find("frames (--frames) must be between 1 and 1024 (got -3)"), std::string::npos) << error_of(r);
  r.frames.reset();
  r.shift = 0.0;
  EXPECT_NE(error_of(r).find("shift (--shift) must be greater than 0 and at most 100 (got 0)"), std::string::npos)
      << error_of(r);
  r.shift.reset();
  r.fps = 1e-3;
  EXPECT_NE(error_of(r).find("fps (--fps) must be between 0.01 and 240 (got 0.001)"), std::string::npos) << error_of(r);
}

// Every problem of a request's values in one message, a line each as it reads alone: fixing one had
// only shown the next (an unknown word, then the steps, then the size). The prompt's come last, as
// an unknown word's lists the vocabulary.
TEST(GenerationRequest, EveryProblemOfItsValuesInOneMessage) {
  const ModelManifest m = three_word_manifest();
  GenerationRequest good;
  good.prompt = "a red circle";
  GenerationRequest word = good, steps = good, frames = good, width = good, all = good;
  word.prompt = all.prompt = "a red circel";
  steps.steps = all.steps = 0;
  frames.frames = all.frames = -3;
  width.width = all.width = 30;
  std::vector<std::string> alone;
  for (const GenerationRequest* r : {&steps, &frames, &width, &word}) {
    alone.push_back(error_of_with(*r, m));
    EXPECT_EQ(alone.back().find('\n'), std::string::npos) << alone.back();  // one problem each
  }
  EXPECT_NE(alone[3].find("circel"), std::string::npos) << alone[3];
  EXPECT_EQ(error_of_with(all, m), alone[0] + "\n" + alone[1] + "\n" + alone[2] + "\n" + alone[3]);
  EXPECT_EQ(error_of_with(good, m), "");
  // A prompt that is not UTF-8 is one of them too (it had been the only one said).
  all.prompt = word.prompt = "a red \xff";
  EXPECT_EQ(error_of_with(all, m), alone[0] + "\n" + alone[1] + "\n" + alone[2] + "\n" + error_of_with(word, m));
  // A low-noise guidance for a model with one DiT is said once, not also as out of its range.
  GenerationRequest low = good;
  low.low_noise_guidance = 0.5;
  EXPECT_EQ(error_of_with(low, m).find('\n'), std::string::npos) << error_of_with(low, m);
  EXPECT_NE(error_of_with(low, m).find("give the guidance alone"), std::string::npos) << error_of_with(low, m);
  // A prompt of no words on the shapes grammar: said once ("names no shape" had followed).
  GenerationRequest punctuation = good;
  punctuation.prompt = "!!!";
  EXPECT_EQ(error_of_with(punctuation, ModelManifest::read(model_search_roots().back() / "shapes-s")),
            "the prompt \"!!!\" has no words: say what to generate");
}

// A clip of 2 × (16/4) × (16/4) = 32 tokens: the default 200 / 1000 clusters become 32 each (more
// would be empty), and the resolved request, which the run record keeps, says so.
TEST(GenerationRequest, NoMoreClustersThanTheClipHasTokens) {
  GenerationRequest r;
  r.prompt = "a red circle";
  r.frames = 2;
  r.width = 16;
  r.height = 16;
  // A dense run clusters nothing: its counts stay as given (its record then works as a preset).
  GenerationRequest resolved = r.resolve(tiny_manifest());
  EXPECT_EQ(resolved.attention.q_clusters, 0);
  EXPECT_EQ(resolved.attention.k_clusters, 1000);
  r.attention.mode = AttentionMode::SvgEar;
  resolved = r.resolve(tiny_manifest());
  EXPECT_EQ(resolved.attention.q_clusters, 32);
  EXPECT_EQ(resolved.attention.k_clusters, 32);
  r.attention.q_clusters = 5;
  r.width = 64;  // 2 × 4 × 16 = 128 tokens
  resolved = r.resolve(tiny_manifest());
  EXPECT_EQ(resolved.attention.q_clusters, 5);
  EXPECT_EQ(resolved.attention.k_clusters, 128);
}

// An unset Q_C (0) becomes the reference scripts' count for the frame size [spec §2.8]: 200 up to
// 832×480, 300 above; one given stays.
TEST(GenerationRequest, QueryClustersFollowTheFrameSizeUnlessGiven) {
  GenerationRequest r;
  r.prompt = "a red circle";
  r.frames = 1;
  r.attention.mode = AttentionMode::Svg2;
  const auto q_clusters_at = [&](int width, int height) {
    r.width = width;
    r.height = height;
    return r.resolve(tiny_manifest()).attention.q_clusters;
  };
  EXPECT_EQ(q_clusters_at(832, 480), 200);
  EXPECT_EQ(q_clusters_at(480, 832), 200);
  EXPECT_EQ(q_clusters_at(1280, 720), 300);
  EXPECT_EQ(q_clusters_at(848, 480), 300);
  r.attention.q_clusters = 250;
  EXPECT_EQ(q_clusters_at(1280, 720), 250);
  EXPECT_EQ(q_clusters_at(832, 480), 250);
}

TEST(GenerationRequest, AModelsBadDefaultNamesItsFile) {
  ModelManifest m = tiny_manifest();
  m.folder = "/models/broken";
  m.defaults.steps = 0;
  GenerationRequest r;
  r.prompt = "a red circle";
  try {
    r.resolve(m);
    ADD_FAILURE() << "a default of 0 steps was accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("(got 0) ("), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("from \"defaults\" in /models/broken/model.json"), std::string::npos) << e.what();
  }
  // A Wan folder has no model.json: its defaults are upstream's, and the message says so.
  const TextEncoderKind built_in = m.text_encoder;
  m.text_encoder = TextEncoderKind::Umt5;
  const std::string wan = error_of_with(r, m);
  EXPECT_NE(wan.find("(got 0) (" + m.name + "'s default, as upstream runs it)"), std::string::npos) << wan;
  EXPECT_EQ(wan.find("model.json"), std::string::npos) << wan;
  m.text_encoder = built_in;
  r.steps = 3;  // the user's own value stands in for it
  EXPECT_EQ(*r.resolve(m).steps, 3);
  // A default negative prompt of a word the model does not know is the model's file's fault too,
  // and says how to run without it; the same words given are the user's.
  m.name = "random-tiny";
  m.text_encoder = TextEncoderKind::Vocab;
  m.vocabulary = {"a", "red", "green", "circle"};
  m.max_tokens = 16;
  m.defaults.negative_prompt = "purple";
  std::string error = error_of_with(r, m);
  EXPECT_NE(error.find("'purple' in the negative prompt (random-tiny's default, from \"defaults\" in "
                       "/models/broken/model.json; give a negative prompt of your own, or guidance 1 for none)"),
            std::string::npos)
      << error;
  // A misspelt word's suggestion stays beside it.
  m.defaults.negative_prompt = "gren";
  error = error_of_with(r, m);
  EXPECT_NE(error.find("'gren' in the negative prompt (did you mean 'green'?) (random-tiny's default, from "),
            std::string::npos)
      << error;
  m.defaults.negative_prompt = "r\xD0\xB5" "d";  // a Cyrillic е: the suggestion holds an aside of its own
  error = error_of_with(r, m);
  EXPECT_NE(error.find("is Cyrillic)?) (random-tiny's default, from "), std::string::npos) << error;
  m.defaults.negative_prompt = "purple";
  r.negative_prompt = "purple";
  error = error_of_with(r, m);
  EXPECT_NE(error.find("'purple' in the negative prompt"), std::string::npos) << error;
  EXPECT_EQ(error.find("defaults"), std::string::npos) << error;
}

// A prompt of punctuation alone has no words for a closed vocabulary: refused, as an empty one is,
// rather than run as the unconditional clip.
TEST(GenerationRequest, APromptWithoutWordsIsRefused) {
  const ModelManifest m = three_word_manifest();
  GenerationRequest r;
  for (const char* prompt : {"...", "!!! ,,,"}) {
    r.prompt = prompt;
    EXPECT_EQ(error_of_with(r, m), "the prompt \"" + std::string(prompt) + "\" has no words: say what to generate");
  }
  r.prompt = "a red circle.";
  EXPECT_EQ(error_of_with(r, m), "");
}

// The noise generator reads a seed's low 32 bits: 1 and 2^32 + 1 would be one video under two
// names, so a seed past 2^32 − 1 is refused, naming the seed that gives its video.
TEST(GenerationRequest, ASeedPastThirtyTwoBitsIsRefusedNamingTheSameVideo) {
  GenerationRequest r;
  r.prompt = "a red circle";
  r.seed = 1;
  EXPECT_EQ(error_of(r), "");
  r.seed = 4294967295u;  // the largest
  EXPECT_EQ(error_of(r), "");
  r.seed = (uint64_t(1) << 32) + 1;
  EXPECT_EQ(error_of(r), "seed 4294967297 is past 4294967295: the noise generator reads 32 bits, so it would give "
                         "the video of seed 1");
  r.seed = ~uint64_t(0);
  EXPECT_NE(error_of(r).find("would give the video of seed 4294967295"), std::string::npos) << error_of(r);
}

// Guidance 1 runs no unconditional pass, so nothing reads the negative prompt: resolve() leaves it
// out (the record says what ran) rather than refuse it (the studio's box may hold text) or check
// its words. A pair of experts reads it when either guidance is not 1.
TEST(GenerationRequest, ANegativePromptNoStepReadsIsLeftOut) {
  ModelManifest m = tiny_manifest();
  m.text_encoder = TextEncoderKind::Vocab;
  m.vocabulary = random_model_preset("tiny").vocabulary;
  m.max_tokens = 16;
  GenerationRequest r;
  r.prompt = "a red circle";
  r.negative_prompt = "blorp";  // not a word of the model's
  r.guidance = 1.0;
  GenerationRequest resolved = r.resolve(m);
  EXPECT_FALSE(resolved.negative_prompt.has_value());
  EXPECT_FALSE(resolved.to_json().contains("negative_prompt")) << resolved.to_json().dump();
  r.negative_prompt.reset();  // the model's default is left out alike
  EXPECT_FALSE(r.resolve(m).negative_prompt.has_value());
  r.guidance = 4.0;  // read now: kept, and its words checked
  r.negative_prompt = "a blue square";
  EXPECT_EQ(*r.resolve(m).negative_prompt, "a blue square");
  r.negative_prompt = "blorp";
  EXPECT_THROW(r.resolve(m), UserError);

  m.low_noise_expert = LowNoiseExpert{{"low.safetensors"}, 0.875};
  r.negative_prompt = "a blue square";
  r.guidance = 1.0;  // given alone: both experts'
  EXPECT_FALSE(r.resolve(m).negative_prompt.has_value());
  r.low_noise_guidance = 2.0;
  EXPECT_EQ(*r.resolve(m).negative_prompt, "a blue square");
  r.guidance = 3.0;
  r.low_noise_guidance = 1.0;
  EXPECT_EQ(*r.resolve(m).negative_prompt, "a blue square");
}

// The noise's source is in a record only when it is the GPU's: records from before the choice
// existed read as the CPU's draw, which they were, and keep their dense-run cache keys.
TEST(GenerationRequest, TheNoiseSourceIsRecordedWhenItIsTheDevices) {
  GenerationRequest r;
  r.prompt = "a red circle";
  EXPECT_FALSE(r.to_json().contains("noise")) << r.to_json().dump();
  r.noise = NoiseSource::Device;
  EXPECT_EQ(r.to_json()["noise"], "device");
}

// An attention dump out of range, or not a .safetensors file, names its option and what was given.
TEST(GenerationRequest, AnAttentionDumpOutOfRangeNamesItsOptionAndValue) {
  GenerationRequest r;
  r.prompt = "a red circle";
  r.steps = 2;
  r.dump_attention = GenerationRequest::AttentionDump{"dump.safetensors", 0, -1};
  EXPECT_NE(error_of(r).find("the attention dump's step (--dump-step) must be between 0 and 1 (steps - 1; got -1)"),
            std::string::npos)
      << error_of(r);
  r.dump_attention = GenerationRequest::AttentionDump{"dump.safetensors", 99, 0};
  EXPECT_NE(error_of(r).find("the attention dump's layer (--dump-layer) must be between 0 and "), std::string::npos)
      << error_of(r);
  EXPECT_NE(error_of(r).find(" for this model (got 99)"), std::string::npos) << error_of(r);
  r.dump_attention = GenerationRequest::AttentionDump{"out/t1.json", 0, 0};
  EXPECT_NE(error_of(r).find("the attention dump (--dump-attention) must be a .safetensors file, not 'out/t1.json'"),
            std::string::npos)
      << error_of(r);
}

// A routing trace of only the layers that always run dense would be empty after the whole run:
// refused at once, naming the layers that have routing.
TEST(GenerationRequest, ATraceOfOnlyDenseLayersIsRefused) {
  GenerationRequest r;
  r.prompt = "a red circle";
  r.attention.mode = AttentionMode::SvgEar;
  r.routing_trace.enabled = true;
  r.routing_trace.layers = {0};
  const int layers = tiny_manifest().dit.num_layers;
  ASSERT_GE(layers, 2);
  EXPECT_NE(error_of(r).find("the routing trace's layers all run dense attention (the first 1 of " +
                             std::to_string(layers) + " layers do"),
            std::string::npos)
      << error_of(r);
  EXPECT_NE(error_of(r).find(layers == 2 ? "trace layer 1" : "trace layers 1 to " + std::to_string(layers - 1)),
            std::string::npos)
      << error_of(r);
  r.routing_trace.layers = {0, 1};
  EXPECT_EQ(error_of(r), "");
  // Of two layers, the one left is named alone ("trace layers 1 to 1" before).
  ModelManifest two = tiny_manifest();
  two.dit.num_layers = 2;
  r.routing_trace.layers = {0};
  EXPECT_NE(error_of_with(r, two).find("so it would hold nothing: trace layer 1"), std::string::npos)
      << error_of_with(r, two);
}

// A guidance below 1 steers away from the prompt (0 ignores it): refused, saying 1 is no guidance.
TEST(GenerationRequest, AGuidanceBelowOneIsRefused) {
  GenerationRequest r;
  r.prompt = "a red circle";
  for (double g : {0.0, 0.5}) {
    r.guidance = g;
    EXPECT_NE(error_of(r).find("guidance (--cfg) must be between 1 and 50 (got " + std::string(g == 0.0 ? "0" : "0.5") +
                               "; 1 is no guidance, the prompt alone"),
              std::string::npos)
        << error_of(r);
  }
  r.guidance = 1.0;
  EXPECT_EQ(*r.resolve(tiny_manifest()).guidance, 1.0);
}

// A Wan model makes 4n + 1 frames; a count that is not one is refused with counts to try, and
// only counts the frame limit takes: 1024 suggests 1021, not 1025 too (past the limit).
TEST(GenerationRequest, FrameCountsToTryStayWithinTheLimit) {
  ModelManifest wan = tiny_manifest();  // Wan-shaped: 4n + 1 frames through the VAE
  wan.name = "wan-shaped";
  wan.temporal_factor = 4;
  GenerationRequest r;
  r.prompt = "x";
  r.frames = 1024;
  std::string message = error_of_with(r, wan);
  EXPECT_NE(message.find("1024 is not one; try 1021"), std::string::npos) << message;
  EXPECT_EQ(message.find(std::to_string(kMaxFrames + 1)), std::string::npos) << message;
  r.frames = 80;  // both in range
  message = error_of_with(r, wan);
  EXPECT_NE(message.find("80 is not one; try 77 or 81"), std::string::npos) << message;
  r.frames = 1021;
  EXPECT_EQ(error_of_with(r, wan), "");

  // The latent frames in patches of 3: 1021 frames make 256 latent frames, 255 (1017 frames) fit and
  // 258 (1029) would be past the limit.
  wan.dit.patch_size = {3, 4, 4};
  message = error_of_with(r, wan);
  EXPECT_NE(message.find("a 1021-frame clip makes 256: try 1017"), std::string::npos) << message;
  EXPECT_EQ(message.find("1029"), std::string::npos) << message;
  // Patches of 300 latent frames: no count up to the limit fits; none is offered.
  wan.dit.patch_size = {300, 4, 4};
  r.frames = 5;
  message = error_of_with(r, wan);
  EXPECT_NE(message.find("a 5-frame clip makes 2: no count from 1 to 1024 fits"), std::string::npos) << message;
  EXPECT_EQ(message.find("try"), std::string::npos) << message;
}

// frame_counts (the studio's arrows) names exactly the counts resolve() takes, for pixel and latent
// models and patches of one or more frames.
TEST(GenerationRequest, FrameCountsAreTheOnesARequestTakes) {
  for (int temporal : {0, 4}) {
    for (int patch : {1, 2, 3}) {
      ModelManifest m = tiny_manifest();
      m.temporal_factor = temporal;
      m.dit.patch_size[0] = patch;
      const FrameCounts counts = frame_counts(m);
      int taken = 0;
      for (int frames = 1; frames <= 60; ++frames) {
        GenerationRequest r;
        r.prompt = "x";
        r.frames = frames;
        const bool listed = frames >= counts.first && (frames - counts.first) % counts.step == 0;
        EXPECT_EQ(error_of_with(r, m).empty(), listed)
            << "temporal " << temporal << ", patch " << patch << ", " << frames << " frames: " << error_of_with(r, m);
        taken += listed;
      }
      EXPECT_GT(taken, 1) << "temporal " << temporal << ", patch " << patch;
    }
  }
  ModelManifest wan = tiny_manifest();
  wan.temporal_factor = 4;
  EXPECT_EQ(frame_counts(wan).first, 1);
  EXPECT_EQ(frame_counts(wan).step, 4);
}

// A shapes-world model whose vocabulary lacks a word of its grammar's wording is refused as its file's
// fault: "a red circle" (which reads "… stays still …") had been refused for "stays", a word not typed.
TEST(GenerationRequest, AGrammarWordTheModelLacksIsItsFilesFault) {
  ModelManifest m = ModelManifest::read(model_search_roots().back() / "shapes-s");
  m.vocabulary.erase(std::find(m.vocabulary.begin(), m.vocabulary.end(), "stays"));
  GenerationRequest r;
  r.prompt = "a red circle";
  const std::string error = error_of_with(r, m);
  EXPECT_NE(error.find("shapes-s/model.json: text_encoder.vocabulary lacks 'stays', a word of the shapes-world "
                       "grammar, which reads \"a red circle\" as \""),
            std::string::npos)
      << error;
  r.prompt = "a red circle moves left";  // no "stays" in its wording
  EXPECT_EQ(error_of_with(r, m).find("lacks"), std::string::npos);
}

// A shapes-world model counts its scene grammar's words, not the prompt's: a model whose
// max_tokens is below them (a hand-edited model.json) had said "the prompt has 10 words" of "red circle".
TEST(GenerationRequest, AShapesPromptTooLongSaysItIsTheGrammarsWords) {
  ModelManifest m = ModelManifest::read(model_search_roots().back() / "shapes-s");
  GenerationRequest r;
  r.prompt = "red circle";
  EXPECT_EQ(error_of_with(r, m), "");
  m.max_tokens = 5;
  const std::string error = error_of_with(r, m);
  EXPECT_NE(error.find("the prompt reads as "), std::string::npos) << error;
  EXPECT_NE(error.find(" words in this model's scene grammar (\""), std::string::npos) << error;
  EXPECT_NE(error.find("and this model reads at most 5 (its text_encoder.max_tokens)"), std::string::npos) << error;
  r.prompt = "red cirle";  // an unknown word is still said first
  EXPECT_NE(error_of_with(r, m).find("unknown word 'cirle'"), std::string::npos) << error_of_with(r, m);
}

}  // namespace
}  // namespace svgear
