// svgear info: what this build can do and what it finds on this machine.

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/version.h>

#include "app/cli_args.h"
#include "app/commands.h"
#include "app/terminal_text.h"
#include "core/media/mp4_writer.h"
#include "core/pipeline/device_info.h"
#include "core/pipeline/generation_request.h"
#include "core/pipeline/model.h"
#include "core/pipeline/model_manifest.h"
#include "core/sampling/sampler.h"
#include "core/user_error.h"
#include "svgear/build_config.h"

namespace svgear {
namespace {

constexpr const char* kHelp = R"(usage: svgear info [--model DIR]

Prints the build (version, LibTorch, whether the CUDA kernels and MP4 output are built in), the CPU
and GPUs it sees, and the model folders under $SVGEAR_MODELS and the built-in models' folder.
  --model DIR   instead, that model: its sizes and defaults, and its weight files checked from
                their headers (every tensor's name, shape and type; no tensor is read, so it does
                not wait on the weights' gigabytes) and its defaults checked as a request; exit
                status 2 with the reason when something would fail a generation
)";

// `svgear info --model DIR`: what the model is, then what a load and a default request would
// refuse, found without loading it.
int describe_model(const std::string& folder) {
  const ModelManifest m = read_model_manifest(folder);
  std::printf("%s  %s\n", printable(m.name, false).c_str(), printable(m.folder.string(), false).c_str());
  if (!m.description.empty()) std::printf("  %s\n", printable(m.description, false).c_str());
  const WanConfig& c = m.dit;
  std::printf("  diffusion model: %d layers, dim %d, %d heads, ffn %d, patch %dx%dx%d%s\n", c.num_layers, c.dim,
              c.num_heads, c.ffn_dim, c.patch_size[0], c.patch_size[1], c.patch_size[2],
              m.low_noise_expert ? ", and a low-noise expert of the same size" : "");
  if (m.text_encoder == TextEncoderKind::Umt5) {
    std::printf("  text encoder: umT5, prompts of up to %d tokens\n", c.text_len);
  } else {
    std::printf("  text encoder: a vocabulary of %zu words, prompts of up to %d words\n", m.vocabulary.size(),
                m.max_tokens);
  }
  std::printf("  latents: %s\n", m.latent == LatentKind::WanVae ? ("the VAE " + m.vae_file).c_str() : "pixels");
  const SamplingDefaults& d = m.defaults;
  std::printf("  defaults: %dx%d, %d frames at %g fps; %d %s steps, guidance %g%s, shift %g\n", d.width, d.height,
              d.frames, d.fps, d.steps, sampler_kind_name(d.sampler), d.guidance,
              d.low_noise_guidance ? (" (low noise " + c10::str(*d.low_noise_guidance) + ")").c_str() : "", d.shift);
  std::fflush(stdout);  // what is known so far before a refusal below, which goes to stderr
  for (const std::string& part : check_model_files(m)) std::printf("  checked: %s\n", part.c_str());
  // The defaults as a request would take them: a model.json's "defaults" are the user's file too.
  check_model_defaults(m);
  std::printf("  checked: the defaults, as a request\n");
  return 0;
}

}  // namespace

int cmd_info(int argc, char** argv) {
  // A model's name and description are the model file's words: a newline or a terminal escape in
  // them must not rewrite the listing (or the terminal). Control characters print as '?'.
  CliArgs args(argc, argv, 2);
  if (args.flag("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  const std::optional<std::string> model = args.text("model");
  args.finish();
  if (model) return describe_model(*model);
  std::printf("svgear %s (%s)\n", SVGEAR_VERSION, SVGEAR_BUILD_TYPE);
  std::printf("LibTorch %s, %d CPU threads\n", TORCH_VERSION, at::get_num_threads());
  std::printf("CUDA kernels: %s\n", SVGEAR_HAVE_CUDA ? "built (sm_80, sm_90a)" : "not built (CPU build)");
  std::printf("MP4 output: %s\n", mp4_supported() ? "H.264 through FFmpeg" : "unavailable (no FFmpeg): PNG and Y4M only");
  std::printf("CPU: %s\n", cpu_description().c_str());
  const auto gpus = cuda_device_descriptions();
  if (gpus.empty()) std::printf("GPUs: none visible\n");
  for (const auto& gpu : gpus) std::printf("GPU: %s\n", gpu.c_str());
  std::printf("models:\n");
  const ModelScan scan = scan_model_roots();  // each folder once, also where two roots reach it
  for (const auto& folder : scan.folders) {
    // Wan folders (no model.json) too; one unreadable folder is listed as such, not the end of the list.
    try {
      const ModelManifest m = read_model_manifest(folder);
      std::printf("  %-16s %s  (%d layers, dim %d)  %s\n", printable(m.name, false).c_str(),
                  printable(folder.string(), false).c_str(), m.dit.num_layers, m.dit.dim,
                  printable(m.description, false).c_str());
    } catch (const std::exception& e) {
      std::printf("  (unreadable) %s: %s\n", printable(folder.string(), false).c_str(), printable(e.what()).c_str());
    }
  }
  if (scan.folders.empty()) std::printf("  none (set SVGEAR_MODELS=<folder of model folders>)\n");
  for (const std::string& note : model_search_notes()) std::printf("note: %s\n", printable(note, false).c_str());
  for (const NotAModel& folder : scan.not_models) {
    std::printf("note: %s holds a Wan diffusion model but is no model: %s\n",
                printable(folder.folder.string(), false).c_str(), printable(folder.why).c_str());
  }
  return 0;
}

}  // namespace svgear
