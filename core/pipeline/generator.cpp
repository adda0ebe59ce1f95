#include "core/pipeline/generator.h"

#include <chrono>
#include <cstdio>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include <ATen/ATen.h>
#include <ATen/DeviceAccelerator.h>

#include "core/attention/attention_backends.h"
#include "core/attention/attention_recorder.h"
#include "core/attention/sparse_schedule.h"
#include "core/attention/svg2_backend.h"
#include "core/io/file_system_trouble.h"
#include "core/pipeline/device_info.h"
#include "core/pipeline/out_of_memory.h"
#include "core/pipeline/time_left.h"
#include "core/sampling/classifier_free_guidance.h"
#include "core/sampling/seeded_noise.h"
#include "core/user_error.h"
#include "kernels/block_sparse_attention/block_sparse_attention.h"

namespace svgear {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Waits for queued GPU work so step timings measure the step, not the launch.
void synchronize(const c10::Device& device) {
  if (device.is_cuda()) at::accelerator::synchronizeDevice(device.index());
}

// Whether a sparse mode's warm-up and dense layers leave it any call (note_no_sparse_call).
bool makes_a_sparse_call(const Model& model, const GenerationRequest& request) {
  const AttentionConfig& a = request.attention;
  const int steps = *request.steps, layers = model.dit->config().num_layers;
  return a.mode != AttentionMode::Dense && dense_step_count(a.dense_warmup_steps, steps) < steps &&
         dense_layer_count(a.dense_layers, layers) < layers;
}

// A sparse mode whose block-sparse attention has no kernel on its GPU (older than sm_80, the kernels
// switched off, or a dtype, head dim or cluster count they lack) runs the ATen reference, far slower
// than dense attention there: say so before the steps. On the CPU, a note: there the clustering and
// routing of every call cost more than the skipped blocks save at the built-in models' sizes
// (docs/benchmarks.md: a shapes-s clip 177 s against dense's 51), which an artist picking SVG-EAR
// for speed would not expect. A run with no sparse call is dense attention: nothing to say.
void note_slow_sparse_path(const Model& model, const GenerationRequest& request, EventSink& sink) {
  if (!makes_a_sparse_call(model, request)) return;
  if (model.device.is_cpu()) {
    sink.on_log(std::string(attention_mode_name(request.attention.mode)) +
                " attention on the CPU is for inspecting its routing: its speed-up comes from the GPU kernels, and "
                "here it is usually slower than dense attention");
    return;
  }
  if (!model.device.is_cuda()) return;
  const char* kernel = block_sparse_kernel_name(model.device, model.dtype, model.dit->config().head_dim(),
                                                request.attention.k_clusters);
  if (std::strcmp(kernel, "ATen reference") != 0) return;
  // Which way this run misses the kernels (their shape limits: block_sparse_attention.h).
  std::string why;
  if (!cuda_kernels_serve(model.device)) {
    why = kernel_path() == KernelPath::Reference ? "the kernels are switched off (KernelPath::Reference)"
                                                 : "the kernels need a GPU of sm_80 or later";
  } else {
    why = std::string("no kernel for ") + c10::toString(model.dtype) + ", head dim " +
          std::to_string(model.dit->config().head_dim()) + " and " + std::to_string(request.attention.k_clusters) +
          " key clusters";
  }
  sink.on_warning(std::string(attention_mode_name(request.attention.mode)) + " attention on " +
              device_description(model.device) + " runs through the ATen reference, not a kernel (" + why +
              "): expect it to be slower than dense attention here");
}

// A clip far larger than the model's default size (a 2048×2048 clip of a model made at 64×64) costs
// far more per step than the size suggests, since attention grows with the square of the tokens,
// and the model never saw such a size: say so before the steps rather than look hung.
void note_size_far_from_default(const ModelManifest& model, const GenerationRequest& request, EventSink& sink) {
  const SamplingDefaults& d = model.defaults;
  const double pixels = double(*request.width) * *request.height * *request.frames;
  const double default_pixels = double(d.width) * d.height * d.frames;
  if (default_pixels <= 0) return;
  const double ratio = pixels / default_pixels;
  if (ratio < 16) return;
  char times[32];
  std::snprintf(times, sizeof times, "%.0f", ratio * ratio);
  sink.on_warning(std::to_string(*request.width) + "×" + std::to_string(*request.height) + " at " +
                  counted_noun(*request.frames, "frame", "frames") + " is " +
                  std::to_string(int64_t(std::llround(ratio))) + "× the video of " + model.name + "'s default (" +
                  std::to_string(d.width) + "×" + std::to_string(d.height) + ", " +
                  counted_noun(d.frames, "frame", "frames") + "): each step's attention costs about " + times +
                  "× as much, and the model was not made for that size");
}

// A sparse mode whose warm-up or dense layers leave it no call (--dense-steps 1, or every layer
// dense) runs dense attention throughout: the video and the timings are dense's, under the sparse
// mode's name, so say so before the steps.
void note_no_sparse_call(const Model& model, const GenerationRequest& request, EventSink& sink) {
  const AttentionConfig& a = request.attention;
  if (a.mode == AttentionMode::Dense || makes_a_sparse_call(model, request)) return;
  const int steps = *request.steps, layers = model.dit->config().num_layers;
  const int dense_steps = dense_step_count(a.dense_warmup_steps, steps);
  char fraction[32];
  std::snprintf(fraction, sizeof fraction, "%g", dense_steps >= steps ? a.dense_warmup_steps : a.dense_layers);
  const auto all = [](int n, const std::string& noun) {  // "the one step", "all 3 steps"
    return n == 1 ? "the one " + noun : "all " + std::to_string(n) + " " + noun + "s";
  };
  sink.on_warning(std::string("no call runs ") + attention_mode_name(a.mode) + " attention: " +
                  (dense_steps >= steps ? "the dense warm-up (" + std::string(fraction) + " of the steps) keeps " +
                                              all(steps, "step") + " dense"
                                        : "the dense layers (" + std::string(fraction) + " of the layers) keep " +
                                              all(layers, "layer") + " dense") +
                  ", so this run is dense attention");
}

// k-means in the warm-up clusters during the dense warm-up steps; a warm-up of no step (--dense-steps
// 0, or 0.2 of 2 steps) leaves it nothing to do, which the record's "kmeans_in_warmup" would not say.
void note_kmeans_without_warmup(const GenerationRequest& request, EventSink& sink) {
  const AttentionConfig& a = request.attention;
  const int warmup_steps = dense_step_count(a.dense_warmup_steps, *request.steps);
  if (a.mode == AttentionMode::Dense || !a.kmeans_in_warmup || warmup_steps > 0) return;
  char fraction[32];
  std::snprintf(fraction, sizeof fraction, "%g", a.dense_warmup_steps);
  sink.on_warning(std::string("k-means in the dense warm-up (--kmeans-in-warmup) changes nothing: ") +
                  "this run's warm-up (" + fraction + " of " + counted_noun(*request.steps, "step", "steps") +
                  ") has no step. Drop it, or make the warm-up a step or more (--dense-steps)");
}

// Gathers the traces of one step's conditional pass, on the thread that runs attention; the
// generator hands them to the EventSink as one RoutingEvent per step.
class StepTraces : public RoutingTraceSink {
 public:
  void on_trace(RoutingTrace&& trace) override { traces.push_back(std::move(trace)); }
  std::vector<RoutingTrace> traces;
};

// A DiT of the model with what runs beside it: Wan2.2-A14B has two, each with its steps' guidance.
struct Expert {
  WanDiT* dit = nullptr;
  std::unique_ptr<AttentionBackend> attention;
  Svg2Backend* sparse = nullptr;          // `attention`'s SVG2 / SVG-EAR backend, if sparse
  AttentionRecorder* recorder = nullptr;  // inside `attention` with a dump_attention
  double guidance = 1.0;
  const char* name = "";
};

}  // namespace

const char* generation_status_name(GenerationStatus status) {
  switch (status) {
    case GenerationStatus::Finished: return "finished";
    case GenerationStatus::Cancelled: return "cancelled";
    case GenerationStatus::Failed: return "failed";
    case GenerationStatus::Unset: break;
  }
  return "unset";
}

GenerationResult Generator::run(const GenerationRequest& request, EventSink& sink, const CancelToken& cancel) {
  GenerationResult result;
  result.request = request;
  const auto start = Clock::now();
  at::Tensor undecoded_estimate;
  try {
    result.request = request.resolve(model_.manifest);
    note_size_far_from_default(model_.manifest, result.request, sink);
    note_slow_sparse_path(model_, result.request, sink);
    note_no_sparse_call(model_, result.request, sink);
    note_kmeans_without_warmup(result.request, sink);
    if (result.request.noise == NoiseSource::Device && model_.device.is_cpu()) {
      sink.on_log("the device's own noise on the CPU is the CPU's: this run draws the same noise as one without it, "
                  "and its record leaves the choice out");
    }
    run_steps(result, sink, cancel, undecoded_estimate);
    result.status = GenerationStatus::Finished;
  } catch (const Cancelled&) {
    result.status = GenerationStatus::Cancelled;
    if (undecoded_estimate.defined()) {
      sink.on_log("decoding the estimate of step " + std::to_string(result.steps_done) + " for the partial result");
      const auto decode_start = Clock::now();
      try {
        result.video = model_.decoder->preview(undecoded_estimate, *result.request.fps);
      } catch (const std::exception& e) {  // the run stays cancelled, with nothing to keep
        sink.on_warning(std::string("the estimate could not be decoded: ") + e.what());
      }
      // The result's decode, through the preview's path: a run without previews had recorded one.
      result.timings.decode_ms = ms_since(decode_start);
    }
    // Every step done: the cancel came in the final decode (the Wan VAE checks per latent frame).
    const bool in_decode = result.request.steps && result.steps_done == *result.request.steps;
    const std::string after = in_decode ? std::string("cancelled during the final decode")
                                        : "cancelled after " + counted_noun(result.steps_done, "step", "steps");
    // A run that keeps no partial result (a compare's) does not say it found none to keep.
    const bool keeps_partial = result.request.keep_estimate || result.request.preview_every > 0;
    sink.on_log(result.steps_done == 0 ? std::string("cancelled before the first step")
                : !result.video.empty() ? after + "; kept the last estimate"
                : keeps_partial         ? after + ", before any estimate was decoded: nothing to keep"
                                        : after);
  } catch (const UserError& e) {
    result.status = GenerationStatus::Failed;
    result.error = e.what();
  } catch (const std::filesystem::filesystem_error& e) {  // a freed text encoder's files, reloaded
    result.status = GenerationStatus::Failed;
    result.error = file_system_trouble("generation failed", e).what();
  } catch (const std::exception& e) {
    result.status = GenerationStatus::Failed;
    // Out of memory says what to lower: on a GPU (a library's own allocation included) with the
    // model's remedies; on the host, whatever the model's device, without them (they free a GPU).
    if (const std::optional<c10::Device> where = out_of_memory_on(e, model_.device)) {
      result.error = where->is_cuda() ? out_of_memory_message(*where, model_.memory_remedies)
                                      : out_of_memory_message(c10::Device(c10::kCPU));
    } else {
      result.error_is_internal = true;
      const auto* torch_error = dynamic_cast<const c10::Error*>(&e);
      result.error = "generation failed: " + std::string(torch_error ? torch_error->what_without_backtrace() : e.what());
    }
  }
  result.timings.total_ms = ms_since(start);
  if (result.status == GenerationStatus::Failed) {
    sink.on_error({result.error});
  } else if (result.status == GenerationStatus::Finished) {
    sink.on_finished({result.video, result.timings.total_ms});
  }
  return result;
}

void Generator::run_steps(GenerationResult& result, EventSink& sink, const CancelToken& cancel,
                          at::Tensor& undecoded_estimate) {
  const GenerationRequest& r = result.request;
  const c10::Device device = model_.device;
  WanDiT& dit = *model_.dit;
  const int num_steps = *r.steps;
  // One DiT, or Wan2.2-A14B's two experts: each with its own backend (its traces, its dump); the
  // low-noise expert's takes over the high-noise expert's centroids at the switch (below).
  std::vector<Expert> experts;
  experts.push_back({&dit, nullptr, nullptr, nullptr, *r.guidance, "high-noise"});
  if (model_.low_noise_dit) {
    experts.push_back({model_.low_noise_dit.get(), nullptr, nullptr, nullptr, *r.low_noise_guidance, "low-noise"});
  }
  for (Expert& expert : experts) {
    expert.attention = make_attention_backend(r.attention, device);
    // Only the sparse backends cluster or decide anything worth tracing (SvgEarBackend derives from
    // Svg2Backend).
    expert.sparse = dynamic_cast<Svg2Backend*>(expert.attention.get());
    if (r.dump_attention) {
      // The dump's step belongs to one expert: only its recorder writes.
      auto wrapped = std::make_unique<AttentionRecorder>(std::move(expert.attention), r.dump_attention->path,
                                                         *r.dump_attention->layer, *r.dump_attention->step);
      expert.recorder = wrapped.get();
      expert.attention = std::move(wrapped);
    }
  }
  StepTraces step_traces;
  cancel.throw_if_cancelled();

  const LatentShape shape = model_.decoder->latent_shape(*r.frames, *r.height, *r.width);
  const TokenGrid grid = model_.manifest.dit.token_grid(shape.frames, shape.height, shape.width);

  // text conditioning
  sink.on_phase(RunPhase::EncodingPrompt);
  auto phase = Clock::now();
  // A NaN in the text encoder's weights had passed on to the DiT, whose weights were then blamed.
  const auto as_context = [&](const at::Tensor& c) {
    if (!c.isfinite().all().item<bool>()) {
      const std::vector<std::string>& files = model_.manifest.text_encoder_files;
      std::string named;
      for (const std::string& file : files) named += (named.empty() ? " (" : ", ") + file;
      throw UserError("the text encoder of model '" + model_.manifest.name +
                      "' gave non-finite values (NaN or infinity) for the prompt: its weights" +
                      (named.empty() ? "" : named + ")") + " may hold NaN or infinite numbers");
    }
    return c.unsqueeze(0).to(device, model_.dtype);
  };
  const at::Tensor context = as_context(model_.text_encoder->encode(r.prompt));  // [1, L, text_dim]
  const bool use_guidance = r.reads_negative_prompt();
  at::Tensor context_null;
  if (use_guidance) {
    try {
      context_null = as_context(model_.text_encoder->encode(*r.negative_prompt));
    } catch (const UserError& e) {  // the encoders speak of "the prompt": say which one
      throw UserError(negative_prompt_message(e.what()));
    }
  }
  for (const bool negative : {false, true}) {
    if (negative && !use_guidance) continue;
    const std::string note = model_.text_encoder->truncation_note(negative ? *r.negative_prompt : r.prompt);
    if (!note.empty()) {
      sink.on_warning(std::string(negative ? "the negative prompt" : "the prompt") + " is too long: " + note +
                  "; shorten it to keep them");
    }
  }
  if (model_.release_text_encoder) model_.release_text_encoder();
  result.timings.text_encode_ms = ms_since(phase);

  // A request whose step cannot fit is refused before the noise and the first step; after the text
  // encoder, so that one freed after encoding no longer counts (pixel models take any size up to
  // 8192² × 1024 frames).
  const std::string shortfall =
      step_memory_shortfall(step_bytes_to_check(shape, dit.config(), model_.dtype, use_guidance, device),
                            device.is_cuda() ? free_device_memory(device) : available_host_memory(),
                            grid.tokens(), device, model_.memory_remedies);
  if (!shortfall.empty()) throw UserError(shortfall);

  // The sample stays in fp32 across steps (as Wan's scheduler does); the DiT runs in model_.dtype.
  at::Tensor sample = seeded_noise(r.seed, {1, shape.channels, shape.frames, shape.height, shape.width},
                                   at::TensorOptions().device(device).dtype(at::kFloat), r.noise);  // [1, C, F, H, W]
  std::unique_ptr<Sampler> sampler = make_sampler(*r.sampler, num_steps, *r.shift);
  const int first_low_noise = model_.manifest.low_noise_expert
                                  ? first_low_noise_step(sampler->schedule().timesteps, model_.manifest.low_noise_expert->boundary)
                                  : num_steps;
  // What a routing trace's steps ran on: with two experts, the boundary step between them.
  nlohmann::json run = {{"model", model_.manifest.name}, {"request", r.to_json()}};
  if (experts.size() == 2) {
    run["experts"] = {{"boundary", model_.manifest.low_noise_expert->boundary}, {"low_noise_from_step", first_low_noise}};
    const auto range = [](int first, int last) {
      return first == last ? "step " + std::to_string(first) : "steps " + std::to_string(first) + "-" + std::to_string(last);
    };
    std::string plan;
    if (first_low_noise > 0) plan = range(1, first_low_noise) + " on the high-noise expert (guidance " + c10::str(*r.guidance) + ")";
    if (first_low_noise < num_steps) {
      plan += (plan.empty() ? "" : ", ") + range(first_low_noise + 1, num_steps) + " on the low-noise expert (guidance " +
              c10::str(*r.low_noise_guidance) + ")";
    }
    sink.on_log(plan);
  }

  const std::vector<int> kinds = step_kinds(
      num_steps, first_low_noise,
      r.attention.mode == AttentionMode::Dense ? num_steps : dense_step_count(r.attention.dense_warmup_steps, num_steps),
      experts[0].guidance != 1.0, experts.back().guidance != 1.0);

  sink.on_phase(RunPhase::Denoising);
  const auto loop_start = Clock::now();
  int previews = 0;
  double first_preview_ms = 0.0;
  for (int i = 0; i < num_steps; ++i) {
    cancel.throw_if_cancelled();
    const Expert& expert = experts[i < first_low_noise ? 0 : 1];
    // The reference's experts share one centroid cache per layer [spec §2.2, P4]: the low-noise
    // expert's first sparse step warm-starts from the high-noise expert's last, instead of paying
    // k-means's 50-iteration init again in mid-run (or never being warmed by --kmeans-in-warmup).
    if (i == first_low_noise && i > 0 && experts[1].sparse) {
      experts[1].sparse->continue_clustering_from(*experts[0].sparse);
    }
    // With the idle expert in host memory, the switch moves the weights (upstream's offload_model);
    // outside the step's time, which stays comparable with the other steps.
    const auto move_start = Clock::now();
    if (model_.bring_to_device(*expert.dit)) {
      synchronize(device);
      sink.on_log(std::string("moved the ") + expert.name + " expert to " + device.str() + " (the other to the CPU) in " +
                  c10::str(std::lround(ms_since(move_start))) + " ms" +
                  (model_.idle_expert_page_locked ? ""
                                                  : " (the system refused to page-lock the idle expert's host memory, "
                                                    "so moves run at pageable memory's speed)"));
    }
    const auto step_start = Clock::now();
    const double timestep = sampler->schedule().timesteps[i];
    const at::Tensor t = at::full({1}, timestep, at::TensorOptions().device(device).dtype(at::kFloat));
    const at::Tensor x = sample.to(model_.dtype);
    Svg2Backend* traced = r.routing_trace.enabled ? expert.sparse : nullptr;
    const bool step_guidance = expert.guidance != 1.0;
    DiTForward call;
    call.attention = expert.attention.get();
    call.step = i;
    call.num_steps = num_steps;
    call.cancel = &cancel;
    call.branch = CfgBranch::Cond;
    // Traces come from the conditional branch, the one the prompt steers; tracing the unconditional
    // branch as well would double the tracing cost.
    if (traced) traced->set_trace(r.routing_trace, &step_traces);
    // Both passes start from one prefix (block 0's self-attention reads no text; the schedules
    // keep that layer dense, so its output does not depend on the branch).
    // The last pass takes the prefix over, so its stream is freed after block 0.
    DiTPrefix prefix = expert.dit->forward_prefix(x, t, call);
    at::Tensor velocity =
        expert.dit->forward_from(step_guidance ? DiTPrefix(prefix) : std::move(prefix), context, call).to(at::kFloat);
    if (traced) traced->set_trace(r.routing_trace, nullptr);
    if (step_guidance) {
      call.branch = CfgBranch::Uncond;
      const at::Tensor uncond = expert.dit->forward_from(std::move(prefix), context_null, call).to(at::kFloat);
      velocity = apply_guidance(velocity, uncond, expert.guidance);
    }
    const bool want_preview = r.preview_every > 0 && ((i + 1) % r.preview_every == 0) && i + 1 < num_steps;
    const at::Tensor x0_estimate =
        want_preview || r.keep_estimate ? sampler->predict_x0(velocity, i, sample)[0] : at::Tensor();
    sample = sampler->step(velocity, i, sample);
    synchronize(device);
    // One small reduction beside the step's sync: a NaN or infinite weight (a file that parses but
    // holds garbage) or an overflow otherwise yields a black or noisy video with no word of why.
    if (!sample.isfinite().all().item<bool>()) {
      throw UserError("step " + std::to_string(i + 1) + " of " + std::to_string(num_steps) +
                      " gave non-finite values (NaN or infinity): the weights of model '" + model_.manifest.name +
                      (experts.size() > 1 ? std::string("' (its ") + expert.name + " expert, which ran this step)"
                                          : std::string("'")) +
                      " may hold NaN or infinite numbers, or its activations overflow");
    }

    const double step_ms = ms_since(step_start);
    // The preview's decode is timed apart: in the step's time, Wan's first (its projection fit)
    // made step 1 look half a minute long, and every record's step times longer than the steps.
    if (want_preview) {
      const auto preview_start = Clock::now();
      result.video = model_.decoder->preview(x0_estimate, *r.fps);
      const double preview_ms = ms_since(preview_start);
      if (previews == 0) first_preview_ms = preview_ms;
      ++previews;
      result.timings.preview_ms += preview_ms;
    }
    undecoded_estimate = want_preview ? at::Tensor() : x0_estimate;
    result.steps_done = i + 1;
    result.attention_dumped = result.attention_dumped || (expert.recorder && expert.recorder->written());
    result.timings.step_ms.push_back(step_ms);
    const double elapsed = ms_since(loop_start);
    sink.on_step({i, num_steps, timestep, step_ms, result.timings.text_encode_ms + elapsed,
                  time_left_ms(result.timings.step_ms, kinds, r.preview_every, previews, first_preview_ms,
                               result.timings.preview_ms)});
    if (!step_traces.traces.empty()) {
      sink.on_routing({i, num_steps, model_.manifest.dit.num_layers, model_.manifest.dit.num_heads,
                       grid.frames, grid.height, grid.width, model_.manifest.temporal_factor,
                       std::move(step_traces.traces), run});
      step_traces.traces.clear();
    }
    if (want_preview) sink.on_preview({i, result.video});
  }

  sink.on_phase(RunPhase::Decoding);
  phase = Clock::now();
  result.video = model_.decoder->decode(sample[0], *r.fps, &cancel, &result.decode);
  if (!result.decode.note.empty()) sink.on_warning(result.decode.note);
  result.timings.decode_ms = ms_since(phase);
}

}  // namespace svgear
