#pragma once
// Generator: runs one text-to-video generation on a loaded Model and reports through an EventSink.
//
// Basic usage (compiled in tests/pipeline/generator_usage_test.cpp):
//
//   auto model = svgear::Model::load("resources/models/shapes-s", svgear::parse_device("auto"));
//   svgear::Generator generator(*model);
//   svgear::GenerationRequest request;
//   request.prompt = "a red circle moves left over a blue sky";
//   request.seed = 42;
//   svgear::CancelToken cancel;                   // cancel.cancel() from any thread stops it
//   svgear::EventSink sink;                       // or a subclass that prints / forwards events
//   svgear::GenerationResult result = generator.run(request, sink, cancel);
//   if (result.status == svgear::GenerationStatus::Finished)
//     svgear::write_video(result.video, "out.mp4");
//
// Errors never escape run(): they become on_error + GenerationStatus::Failed with a message a user
// can act on. A cancelled run keeps the last preview as a partial result.

#include <string>
#include <vector>

#include "core/cancel_token.h"
#include "core/media/video.h"
#include "core/pipeline/event_sink.h"
#include "core/pipeline/generation_request.h"
#include "core/pipeline/model.h"

namespace svgear {

enum class GenerationStatus { Unset, Finished, Cancelled, Failed };
const char* generation_status_name(GenerationStatus status);

struct GenerationTimings {
  double text_encode_ms = 0.0;
  std::vector<double> step_ms;  // the denoising alone: a step's preview decode is in preview_ms
  double preview_ms = 0.0;      // every preview decode (Wan's first fits its projection: ~26 s)
  double decode_ms = 0.0;
  double total_ms = 0.0;
};

struct GenerationResult {
  GenerationStatus status = GenerationStatus::Unset;
  GenerationRequest request;  // resolved (defaults filled in) when resolution succeeded
  Video video;                // final video; on cancel, the last preview or kept estimate (may be empty)
  int steps_done = 0;
  std::string error;
  // The error is a bug or an unexpected library failure, not the request's fault or the machine's
  // limits (UserError, out of memory): the CLI's exit code 3 instead of 2.
  bool error_is_internal = false;
  GenerationTimings timings;
  bool attention_dumped = false;  // request.dump_attention's file was written
  // How the final decode differed from the model's own (the Wan VAE's tiles after running out of
  // GPU memory); set once the decode succeeded.
  DecodeReport decode;
};

class Generator {
 public:
  explicit Generator(Model& model) : model_(model) {}
  GenerationResult run(const GenerationRequest& request, EventSink& sink, const CancelToken& cancel);

 private:
  // `undecoded_estimate`: with request.keep_estimate, the last step's clean-clip estimate when no
  // preview shows it yet, for run() to decode should a cancel end the run.
  void run_steps(GenerationResult& result, EventSink& sink, const CancelToken& cancel, at::Tensor& undecoded_estimate);
  Model& model_;
};

}  // namespace svgear
