// svgear info: what this build can do and what it finds on this machine.

#include <cstdio>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/version.h>

#include "app/cli_args.h"
#include "app/commands.h"
#include "app/terminal_text.h"
#include "core/media/mp4_writer.h"
#include "core/pipeline/device_info.h"
#include "core/pipeline/model.h"
#include "core/pipeline/model_manifest.h"
#include "core/user_error.h"
#include "svgear/build_config.h"

namespace svgear {
namespace {

constexpr const char* kHelp = R"(usage: svgear info

Prints the build (version, LibTorch, whether the CUDA kernels and MP4 output are built in), the CPU
and GPUs it sees, and the model folders under $SVGEAR_MODELS and the built-in models' folder. No options.
)";

}  // namespace

int cmd_info(int argc, char** argv) {
  // A model's name and description are the model file's words: a newline or a terminal escape in
  // them must not rewrite the listing (or the terminal). Control characters print as '?'.
  CliArgs args(argc, argv, 2);
  if (args.flag("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  args.finish();
  std::printf("svgear %s (%s)\n", SVGEAR_VERSION, SVGEAR_BUILD_TYPE);
  std::printf("LibTorch %s, %d CPU threads\n", TORCH_VERSION, at::get_num_threads());
  std::printf("CUDA kernels: %s\n", SVGEAR_HAVE_CUDA ? "built (sm_80, sm_90a)" : "not built (CPU build)");
  std::printf("MP4 output: %s\n", mp4_supported() ? "H.264 through FFmpeg" : "unavailable (no FFmpeg): PNG and Y4M only");
  std::printf("CPU: %s\n", cpu_description().c_str());
  const auto gpus = cuda_device_descriptions();
  if (gpus.empty()) std::printf("GPUs: none visible\n");
  for (const auto& gpu : gpus) std::printf("GPU: %s\n", gpu.c_str());
  std::printf("models:\n");
  int count = 0;
  for (const auto& root : model_search_roots()) {
    for (const auto& folder : find_model_folders(root)) {
      // Wan folders (no model.json) too; one unreadable folder is listed as such, not the end of the list.
      try {
        const ModelManifest m = read_model_manifest(folder);
        std::printf("  %-16s %s  (%d layers, dim %d)  %s\n", printable(m.name, false).c_str(),
                    printable(folder.string(), false).c_str(), m.dit.num_layers, m.dit.dim,
                    printable(m.description, false).c_str());
      } catch (const std::exception& e) {
        std::printf("  (unreadable) %s: %s\n", printable(folder.string(), false).c_str(),
                    printable(e.what()).c_str());
      }
      ++count;
    }
  }
  if (count == 0) std::printf("  none (set SVGEAR_MODELS=<folder of model folders>)\n");
  for (const std::string& note : model_search_notes()) std::printf("note: %s\n", printable(note, false).c_str());
  return 0;
}

}  // namespace svgear
