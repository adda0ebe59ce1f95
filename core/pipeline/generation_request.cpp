#include "core/pipeline/generation_request.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "core/attention/attention_preset.h"
#include "core/attention/sparse_schedule.h"
#include "core/io/bounded_json.h"
#include "core/pipeline/request_limits.h"
#include "core/sampling/flow_schedule.h"
#include "core/sampling/seeded_noise.h"
#include "core/text/prompt_words.h"
#include "core/text/shapes_prompt_encoder.h"
#include "core/text/vocab_text_encoder.h"
#include "core/user_error.h"

namespace svgear {
namespace {

void require(bool ok, const std::string& message) {
  if (!ok) throw UserError(message);
}

// Prompts go into the JSON run record, which must be UTF-8; nlohmann's encoder finds the first bad
// byte ("invalid UTF-8 byte at index 13: 0xFF"). Empty when `text` is UTF-8.
std::string utf8_problem(const std::string& text, const std::string& what) {
  try {
    (void)nlohmann::json(text).dump();
  } catch (const nlohmann::json::type_error& e) {
    return what + " is not UTF-8 text (" + json_error_text(e) + "): write it in UTF-8";
  }
  return {};
}

}  // namespace

std::string negative_prompt_message(std::string message, const std::string& source) {
  const size_t at = message.find("the prompt");
  if (at == std::string::npos) return "the negative prompt" + source + ": " + message;
  message.replace(at, 10, "the negative prompt");
  // A word's suggestion stays beside it, before where the prompt came from.
  size_t after = at + std::string_view("the negative prompt").size();
  const std::string_view suggestion = " (did you mean ";
  if (message.compare(after, suggestion.size(), suggestion) == 0) {
    // Its question's end: a suggestion may hold an aside of its own ("(its U+0435 is Cyrillic)").
    const size_t close = message.find("?)", after);
    if (close != std::string::npos) after = close + 2;
  }
  return message.insert(after, source);
}

int64_t attention_tokens(const GenerationRequest& resolved, const ModelManifest& model) {
  const int latent_frames =
      model.temporal_factor > 0 ? (*resolved.frames - 1) / model.temporal_factor + 1 : *resolved.frames;
  return model.dit
      .token_grid(latent_frames, *resolved.height / model.spatial_factor, *resolved.width / model.spatial_factor)
      .tokens();
}

GenerationRequest GenerationRequest::resolve(const ModelManifest& model) const {
  const SamplingDefaults& d = model.defaults;
  GenerationRequest r = *this;
  // Every problem of the request's values in one message, a line each: fixing one would only have
  // shown the next (an unknown word, then the width). The prompts' come last, as an unknown word's
  // lists the vocabulary. The attention dump's and the trace's options are checked after them,
  // against the valid request.
  std::vector<std::string> problems, prompt_problems;
  const auto check = [&problems](bool ok, const std::string& message) {
    if (!ok) problems.push_back(message);
    return ok;
  };
  r.negative_prompt = negative_prompt.value_or(d.negative_prompt);
  r.steps = steps.value_or(d.steps);
  r.guidance = guidance.value_or(d.guidance);
  if (model.low_noise_expert) {
    // A guidance given alone serves both experts, as upstream's single guide_scale does (diffusers:
    // guidance_scale_2 defaults to guidance_scale).
    r.low_noise_guidance = low_noise_guidance ? *low_noise_guidance
                           : guidance         ? *guidance
                                              : d.low_noise_guidance.value_or(*r.guidance);
  } else if (low_noise_guidance) {
    problems.push_back(model.name + " has one diffusion model: a low-noise guidance is for the low-noise expert of "
                       "Wan2.2-A14B; give the guidance alone");
    r.low_noise_guidance.reset();  // not checked again, nor taken to read the negative prompt
  }
  r.shift = shift.value_or(d.shift);
  r.frames = frames.value_or(d.frames);
  r.height = height.value_or(d.height);
  r.width = width.value_or(d.width);
  r.fps = fps.value_or(d.fps);
  r.sampler = sampler.value_or(d.sampler);
  // A value the request left to the model: its fault is the model's file, not an option the user gave.
  // A Wan folder takes upstream's defaults for its model: umT5 says it is one, since a model.json
  // gives only a vocabulary encoder (ModelManifest::read).
  const auto from_defaults = [&](bool given) {
    if (given) return std::string();
    if (model.text_encoder == TextEncoderKind::Umt5) return " (" + model.name + "'s default, as upstream runs it)";
    return " (" + model.name + "'s default, from \"defaults\" in " + (model.folder / "model.json").string() + ")";
  };

  // Two seeds of the same low 32 bits would give one video under two names (records, file names,
  // compare's cache).
  check(seed <= kMaxSeed, "seed " + std::to_string(seed) + " is past " + std::to_string(kMaxSeed) +
                              ": the noise generator reads 32 bits, so it would give the video of seed " +
                              std::to_string(seed & kMaxSeed));
  // With guidance 1 at every step nothing encodes the negative prompt: the record leaves it out
  // rather than claim one the run never read (the studio's box may still hold text).
  if (!r.reads_negative_prompt()) r.negative_prompt.reset();

  const std::string prompt_utf8 = utf8_problem(r.prompt, "the prompt");
  const std::string negative_utf8 = r.negative_prompt ? utf8_problem(*r.negative_prompt, "the negative prompt") : "";
  for (const std::string* problem : {&prompt_utf8, &negative_utf8}) {
    if (!problem->empty()) prompt_problems.push_back(*problem);
  }
  if (model.text_encoder == TextEncoderKind::Vocab) {
    // The words a closed vocabulary refuses, before any weight loads (the negative prompt only
    // when guidance reads it).
    // Punctuation alone reads as no words: the unconditional clip, as an empty prompt would give.
    // An empty one is asked for (eval's measure of the prompt's influence); the CLI and the studio
    // refuse it themselves.
    const bool blank = r.prompt.find_first_not_of(" \t\n\v\f\r") == std::string::npos;
    const bool has_words = blank || !split_prompt_words(r.prompt).empty();
    if (!has_words) prompt_problems.push_back("the prompt \"" + r.prompt + "\" has no words: say what to generate");
    for (const bool negative : {false, true}) {
      // A prompt refused above is not read again: "names no shape" would say its no words twice.
      if (negative ? !r.negative_prompt || !negative_utf8.empty() : !has_words || !prompt_utf8.empty()) continue;
      const std::string& text = negative ? *r.negative_prompt : r.prompt;
      try {
        if (model.prompt_grammar != kShapesWorldGrammar) {
          VocabTextEncoder::check_prompt(model.vocabulary, model.max_tokens, text);
        } else {
          // The grammar's words are counted, not the prompt's: "red circle" reads as ten. Said so,
          // where "the prompt has 10 words" named a count the user never typed.
          const std::string words = ShapesPromptEncoder::token_text(text);
          // The grammar's wording ("a red circle" reads "… stays still …"): a word of it the model
          // lacks is its model.json's fault, where it had been refused as a word of the prompt.
          const std::vector<std::string> word_list = split_prompt_words(words);
          for (const std::string& word : word_list) {
            if (std::find(model.vocabulary.begin(), model.vocabulary.end(), word) == model.vocabulary.end()) {
              throw UserError((model.folder / "model.json").string() + ": text_encoder.vocabulary lacks '" + word +
                              "', a word of the " + kShapesWorldGrammar + " grammar, which reads \"" + text +
                              "\" as \"" + words +
                              "\": the file was edited, or made for another version of the grammar");
            }
          }
          VocabTextEncoder::check_prompt(model.vocabulary, std::numeric_limits<int>::max(), words);
          const size_t count = word_list.size();
          if (count > size_t(model.max_tokens)) {
            throw UserError("the prompt reads as " + std::to_string(count) + " words in this model's scene grammar (\"" +
                            words + "\"), and this model reads at most " + std::to_string(model.max_tokens) +
                            " (its text_encoder.max_tokens): name fewer objects");
          }
        }
      } catch (const UserError& e) {
        // The model's default negative prompt, not given: its file is at fault, and the user can run
        // without it.
        std::string source;
        if (negative && !negative_prompt) {
          source = from_defaults(false);  // " (…)"
          source.insert(source.size() - 1, "; give a negative prompt of your own, or guidance 1 for none");
        }
        prompt_problems.push_back(negative ? negative_prompt_message(e.what(), source) : e.what());
      }
    }
  }
  // Each value by its name and its flag, and the value given (check_attention_config's way).
  const bool steps_ok = check(*r.steps >= 1 && *r.steps <= kMaxSteps,
                              "steps (--steps) must be between 1 and " + std::to_string(kMaxSteps) + " (got " +
                                  std::to_string(*r.steps) + ")" + from_defaults(steps.has_value()));
  // Below 1 the video moves away from the prompt towards the negative one, and at 0 the prompt is
  // not read at all: a user who means "no guidance" wants 1, as the studio's boxes start there.
  const auto below_one = [&](double value) {
    return " (got " + shown_number(value) + "; 1 is no guidance, the prompt alone; below 1 the video moves away from the prompt, "
           "and 0 ignores it)";
  };
  const std::string most_guidance = shown_number(kMaxGuidance);
  check(*r.guidance >= 1.0 && *r.guidance <= kMaxGuidance,
        "guidance (--cfg) must be between 1 and " + most_guidance + below_one(*r.guidance) +
            from_defaults(guidance.has_value()));
  if (r.low_noise_guidance) {
    check(*r.low_noise_guidance >= 1.0 && *r.low_noise_guidance <= kMaxGuidance,
          "the low-noise guidance (--cfg-low-noise) must be between 1 and " + most_guidance +
              below_one(*r.low_noise_guidance) + from_defaults(low_noise_guidance.has_value()));
  }
  const bool shift_ok = check(*r.shift > 0.0 && *r.shift <= kMaxShift,
                              "shift (--shift) must be greater than 0 and at most " + shown_number(kMaxShift) +
                                  " (got " + shown_number(*r.shift) + ")" + from_defaults(shift.has_value()));
  if (steps_ok && shift_ok) {
    try {
      (void)make_flow_schedule(*r.steps, *r.shift);  // a shift so small that the noise levels collapse
    } catch (const UserError& e) {
      problems.push_back(e.what());
    }
  }
  // Below 0.01 a Y4M header's rate (stored to a thousandth) would read 0.
  check(*r.fps >= 0.01 && *r.fps <= 240.0,
        "fps (--fps) must be between 0.01 and 240 (got " + shown_number(*r.fps) + ")" + from_defaults(fps.has_value()));
  check(r.preview_every >= 0, "preview_every must be 0 (off) or positive");
  const auto& patch = model.dit.patch_size;
  const std::string frames_origin = from_defaults(frames.has_value());
  const bool frames_ok = check(*r.frames >= 1 && *r.frames <= kMaxFrames,
                               "frames (--frames) must be between 1 and " + std::to_string(kMaxFrames) + " (got " +
                                   std::to_string(*r.frames) + ")" + frames_origin);
  if (frames_ok && model.temporal_factor > 0) {
    const int t = model.temporal_factor;
    // "try 1021" or "try 5 or 9": only counts the frame limit takes (1025 is past kMaxFrames).
    const auto try_frames = [](int fewer, int more) {
      std::string counts;
      for (int n : {fewer, more}) {
        if (n < 1 || n > kMaxFrames) continue;
        counts += (counts.empty() ? "" : " or ") + std::to_string(n);
      }
      return counts.empty() ? "no count from 1 to " + std::to_string(kMaxFrames) + " fits" : "try " + counts;
    };
    const int below = (*r.frames - 1) / t * t + 1;
    const bool counts_ok =
        check((*r.frames - 1) % t == 0,
              model.name + " makes " + std::to_string(t) + "n + 1 frames (1, " + std::to_string(t + 1) + ", " +
                  std::to_string(2 * t + 1) + ", ...): " + std::to_string(*r.frames) + " is not one; " +
                  try_frames(below, below + t) + frames_origin);
    // The DiT patches latent frames in groups of patch[0]: a count that is not a multiple of it
    // would lose its last frames in the patch embedding (no released Wan has patch[0] > 1).
    const int latents = (*r.frames - 1) / t + 1;
    const int fewer = latents / patch[0] * patch[0];
    const auto pixel_frames = [t](int latent_count) { return (latent_count - 1) * t + 1; };
    check(!counts_ok || latents % patch[0] == 0,
          model.name + " patches " + std::to_string(patch[0]) + " latent frames at a time, and a " +
              std::to_string(*r.frames) + "-frame clip makes " + std::to_string(latents) + ": " +
              try_frames(fewer > 0 ? pixel_frames(fewer) : 0, pixel_frames(fewer + patch[0])) + frames_origin);
  } else if (frames_ok) {
    check(*r.frames % patch[0] == 0,
          "frames must be a multiple of " + std::to_string(patch[0]) + " for this model" + frames_origin);
  }
  const size_t problems_before_sides = problems.size();
  for (auto [name, value, p, origin] :
       {std::tuple{"width", *r.width, patch[2] * model.spatial_factor, from_defaults(width.has_value())},
        std::tuple{"height", *r.height, patch[1] * model.spatial_factor, from_defaults(height.has_value())}}) {
    std::string problem;
    if (value < p || value > kMaxSidePixels) {
      problem = std::string(name) + " (--" + name + ") must be between " + std::to_string(p) + " and " +
                std::to_string(kMaxSidePixels) + " pixels (got " + std::to_string(value) + ")" + origin;
    } else if (value % p != 0) {
      const int below = value / p * p;
      const std::string unit = model.spatial_factor > 1 ? std::to_string(p) + " (VAE " + std::to_string(model.spatial_factor) +
                                                              " × patch " + std::to_string(p / model.spatial_factor) + ")"
                                                        : "the patch size " + std::to_string(p);
      const int above = below + p;  // past kMaxSidePixels where p does not divide it
      problem = std::string(name) + " " + std::to_string(value) + " is not a multiple of " + unit + ": try " +
                (below == 0               ? std::to_string(p)
                 : above > kMaxSidePixels ? std::to_string(below)
                                          : std::to_string(below) + " or " + std::to_string(above)) +
                origin;
    }
    if (!problem.empty()) problems.push_back(problem);
  }
  if (model.max_pixels > 0 && problems.size() == problems_before_sides) {
    check(int64_t(*r.height) * *r.width <= model.max_pixels,
          model.name + " is made for frames of at most " + std::to_string(model.max_pixels) + " pixels (" +
              std::to_string(model.defaults.width) + "×" + std::to_string(model.defaults.height) + " has " +
              std::to_string(model.defaults.width * model.defaults.height) + "); " + std::to_string(*r.width) + "×" +
              std::to_string(*r.height) + " has " + std::to_string(*r.width * *r.height) +
              (model.max_pixels <= 832 * 480 ? ". 1280×720 needs Wan2.1-T2V-14B" : ""));
  }
  problems.insert(problems.end(), prompt_problems.begin(), prompt_problems.end());
  if (!problems.empty()) {
    std::string message = problems.front();
    for (size_t i = 1; i < problems.size(); ++i) message += "\n" + problems[i];
    throw UserError(message);
  }
  // No more clusters than a call has tokens: more would be empty clusters at best, a k-means of their
  // size (100000 key clusters for a 32-token clip ran out of memory) and routing budgets counted
  // over them. The record then says what ran. A dense run clusters nothing: its counts stay as
  // given, so that its record's attention object is the defaults and works as a preset.
  if (r.attention.mode != AttentionMode::Dense) {
    const int64_t tokens = attention_tokens(r, model);
    if (r.attention.q_clusters == 0) r.attention.q_clusters = default_q_clusters(*r.height, *r.width);
    r.attention.q_clusters = int(std::min<int64_t>(r.attention.q_clusters, tokens));
    r.attention.k_clusters = int(std::min<int64_t>(r.attention.k_clusters, tokens));
  }
  if (r.dump_attention) {
    const int layers = model.dit.num_layers;
    r.dump_attention->layer = r.dump_attention->layer.value_or(layers / 2);
    r.dump_attention->step = r.dump_attention->step.value_or(*r.steps / 2);
    require(*r.dump_attention->layer >= 0 && *r.dump_attention->layer < layers,
            "the attention dump's layer (--dump-layer) must be between 0 and " + std::to_string(layers - 1) +
                " for this model (got " + std::to_string(*r.dump_attention->layer) + ")");
    require(*r.dump_attention->step >= 0 && *r.dump_attention->step < *r.steps,
            "the attention dump's step (--dump-step) must be between 0 and " + std::to_string(*r.steps - 1) +
                " (steps - 1; got " + std::to_string(*r.dump_attention->step) + ")");
    require(r.dump_attention->path.extension() == ".safetensors",
            "the attention dump (--dump-attention) must be a .safetensors file, not '" +
                r.dump_attention->path.string() + "'");
  }
  if (r.routing_trace.enabled) {
    const int layers = model.dit.num_layers;
    const int heads = model.dit.num_heads;
    require_trace_selection_within(r.routing_trace.layers, layers, "layer");
    require_trace_selection_within(r.routing_trace.audit_layers, layers, "layer");
    require_trace_selection_within(r.routing_trace.heads, heads, "head");
    // Layers that always run dense attention have no routing: a trace of only those would come out
    // empty after the whole run, for a reason known now.
    const int dense = dense_layer_count(r.attention.dense_layers, layers);
    const auto& traced = r.routing_trace.layers;
    const bool all_dense = !traced.empty() && std::all_of(traced.begin(), traced.end(), [&](int l) { return l < dense; });
    char fraction[32];
    std::snprintf(fraction, sizeof fraction, "%g", r.attention.dense_layers);
    require(r.attention.mode == AttentionMode::Dense || !all_dense,
            "the routing trace's layers all run dense attention (the first " + std::to_string(dense) + " of " +
                std::to_string(layers) + " layers do: the dense-layers fraction " + fraction +
                ", at least one), so it would hold nothing: " +
                (dense == layers - 1 ? "trace layer " + std::to_string(dense)
                 : dense < layers    ? "trace layers " + std::to_string(dense) + " to " + std::to_string(layers - 1)
                                     : std::string("lower the dense-layers fraction")));
  }
  return r;
}

void check_model_defaults(const ModelManifest& model) {
  GenerationRequest defaults;
  defaults.prompt = model.vocabulary.empty() ? "a" : model.vocabulary.front();  // a prompt the model reads
  (void)defaults.resolve(model);
}

FrameCounts frame_counts(const ModelManifest& model) {
  const int patch = std::max(1, model.dit.patch_size[0]);
  if (model.temporal_factor <= 0) return {patch, patch};
  // (frames − 1) / t + 1 latent frames, a multiple of the patch's.
  return {(patch - 1) * model.temporal_factor + 1, patch * model.temporal_factor};
}

bool GenerationRequest::reads_negative_prompt() const {
  return (guidance && *guidance != 1.0) || (low_noise_guidance && *low_noise_guidance != 1.0);
}

nlohmann::json GenerationRequest::to_json() const {
  nlohmann::json j;
  j["prompt"] = prompt;
  if (negative_prompt) j["negative_prompt"] = *negative_prompt;
  j["seed"] = seed;
  if (steps) j["steps"] = *steps;
  if (guidance) j["guidance"] = *guidance;
  if (low_noise_guidance) j["low_noise_guidance"] = *low_noise_guidance;
  if (shift) j["shift"] = *shift;
  if (frames) j["frames"] = *frames;
  if (height) j["height"] = *height;
  if (width) j["width"] = *width;
  if (fps) j["fps"] = *fps;
  if (sampler) j["sampler"] = sampler_kind_name(*sampler);
  if (noise != NoiseSource::Cpu) j["noise"] = noise_source_name(noise);
  j["attention"] = attention_config_to_json(attention);
  j["preview_every"] = preview_every;
  return j;
}

}  // namespace svgear
