// svgear bench attention: one self-attention call per backend and top-p budget — time per call,
// density and error against dense attention — as a table and optionally JSON; svgear bench step:
// whole denoising steps; svgear bench trace: writing and reading a routing trace file.

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "app/cli_args.h"
#include "app/commands.h"
#include "app/interrupt_cancel.h"
#include "app/request_options.h"
#include "app/results_file.h"
#include "core/attention/attention_preset.h"
#include "core/bench/attention_bench.h"
#include "core/bench/dit_step_bench.h"
#include "core/bench/trace_read_bench.h"
#include "core/io/atomic_file.h"
#include "core/pipeline/device_info.h"
#include "core/pipeline/model.h"
#include "core/pipeline/out_of_memory.h"
#include "core/user_error.h"

namespace svgear {
namespace {

// What to do about a sparse-only option given with --modes dense.
constexpr const char* kAddASparseMode = "add svg2 or svgear to --modes";

constexpr const char* kHelp = R"(usage: svgear bench attention [options]
       svgear bench step [options]
       svgear bench trace [options]

svgear bench attention: one self-attention call per backend and budget.

  --shape NAME       wan1.3b-480p | wan14b-720p | hunyuan-720p | tiny | small (default small)
  --modes LIST       comma-separated: dense,svg2,svgear (default all; dense always runs, as the reference)
  --budgets LIST     top_p values for the sparse modes, decimal numbers in (0, 1]
                     (default 0.5,0.7,0.9,0.95)
  --inputs FILE      .safetensors with q, k, v [B, H, N, d] (real activations) instead of synthetic ones;
                     --shape then gives only the default cluster counts
  --device D         auto | cpu | cuda | cuda:N (default auto)
  --dtype bf16|f32   (default bf16 on CUDA, f32 on the CPU)
  --repeat N         timed calls after one warm-up call, 1-1000; the median is reported (default 5)
  --q-clusters N     --k-clusters N   (default: the shape's; --q-clusters 0 is that default too)
  --seed N|random    synthetic inputs' seed (default 0; not with --inputs)
  --kernel K         kernels on a GPU, not the CPU: fastest (wgmma on sm_90, default) | mma-sync (the
                     sm_80 attention and k-means assignment kernels, on any GPU from sm_80: for
                     comparison) | reference (every op's ATen reference, the kernels' oracle: slow)
  --json FILE        also write the results as JSON
--budgets, --q-clusters, --k-clusters and --kernel apply to the sparse modes: not with --modes dense.

svgear bench step: whole denoising steps (cond + uncond forward) of a Wan-shaped DiT with random
weights, dense first, then each sparse mode; ms per step, the cold first sparse step, density,
speedup, an estimate of a whole generation, error against dense and peak GPU memory; and, with
random weights of the real sizes, the text encoder (umT5) and the VAE decode of the whole latent,
so each mode's total covers a whole generation (text encoder + steps + VAE).
  --shape NAME       wan1.3b-480p | wan14b-720p | tiny (default tiny)
  --modes LIST       dense,svg2,svgear, each once (default dense,svgear; dense always runs first)
  --steps N          warm steps timed per mode, 1 to 1000 (default 3)
  --num-steps N      the schedule's length, 1 to 1000 (default 50). The steps sit past its dense
                     warm-up (its first 20%): the cold step, the timed ones and one untimed step must
                     fit after it (--num-steps 50 holds at most --steps 38)
  --top-p P          the sparse modes' budget (default 0.9; not with --modes dense alone). Random
                     weights attend almost uniformly (top_p 0.9 keeps 87% of the blocks at
                     wan1.3b-480p): a lower top_p times the step at the density of structured
                     attention (0.25: 19% at wan1.3b-480p)
  --profile-step     after the last mode's timed steps, one more of its steps, untimed, for
                     `ncu --profile-from-start off` (cudaProfilerStart/Stop around it)
  --expert-swap      a GPU only: also time Wan2.2-A14B's Idle expert on the CPU, a second DiT of
                     the shape in host memory trading places with the first (two moves through
                     pageable memory, then three through page-locked memory, as a load holds it)
  --fp8              the blocks' linear weights in e4m3 with a scale each, as a scaled fp8
                     checkpoint (ComfyUI's *_fp8_scaled) keeps them: each matmul dequantises its weight
                     (drawn in --dtype first, so the bf16 DiT must fit once)
  --device D  --dtype bf16|f32  --seed N|random  --json FILE   as above

svgear bench trace: a routing trace file (`svgear generate --trace`, the studio's Open routing
trace) of synthetic traces of a Wan shape's size written and read back; seconds and seconds per GB.
The write includes the file's fsync; the read follows at once, from the page cache (parsing, not
the disk).
  --tokens N  --q-clusters N  --k-clusters N   one trace's size (default 32760, 200, 1000: Wan-1.3B 480p)
                                               (each 1-1048576; clusters past N run as N, as a sparse call's do)
  --steps N  --traces N   steps, and traces per step (default 2 and 24: ~0.13 GB)
  --folder DIR            where the file is written, and removed after (default the temporary folder)
  --seed N|random  --json FILE
)";

c10::ScalarType parse_dtype(const std::string& name) {
  if (name == "bf16") return c10::kBFloat16;
  if (name == "f32") return c10::kFloat;
  throw UserError("--dtype expects bf16 or f32, got '" + name + "'");
}

// Out of memory is the size the user asked for: a user error that says what to lower (`advice`),
// as generate and train say theirs, not an internal error with the allocator's backtrace.
template <class Bench>
auto run_saying_out_of_memory(const c10::Device& device, const std::string& advice, Bench bench) {
  try {
    return bench();
  } catch (const std::exception& e) {
    const std::optional<c10::Device> where = out_of_memory_on(e, device);
    if (!where) throw;
    throw UserError("out of memory on " + where->str() + ": " + advice +
                    (where->is_cuda() ? ", or close other programs using the GPU" : ""));
  }
}

// What a bench is doing, on stderr (stdout is the table alone), and Ctrl-C's way out between its
// stages: timings cut short are no result, so nothing is written.
std::function<void(const std::string&)> bench_progress(const char* bench, const CancelToken& cancel) {
  return [bench, &cancel](const std::string& what) {
    cancel.throw_if_cancelled();
    std::fprintf(stderr, "bench %s: %s\n", bench, what.c_str());
  };
}

// `bench()` with Ctrl-C as a way out between its stages (bench_progress): nullopt, said so, when it
// was cancelled, as timings cut short are no result.
template <class Bench>
auto run_unless_cancelled(const char* name, const CancelToken& cancel, Bench bench)
    -> std::optional<decltype(bench())> {
  try {
    auto result = bench();
    cancel.throw_if_cancelled();  // a signal during the last stage, after the last progress call
    return result;
  } catch (const Cancelled&) {
    std::fprintf(stderr, "bench %s: cancelled; nothing written\n", name);
    return std::nullopt;
  }
}

int bench_trace(int argc, char** argv) {
  CliArgs args(argc, argv, 3);
  if (args.flag("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  TraceReadBenchOptions options;
  // A trace file's limits, said before the bench says what it is doing.
  options.tokens = args.integer("tokens", 1, kMaxTraceBenchSize).value_or(options.tokens);
  options.q_clusters = int(args.integer("q-clusters", 1, kMaxTraceBenchSize).value_or(options.q_clusters));
  options.k_clusters = int(args.integer("k-clusters", 1, kMaxTraceBenchSize).value_or(options.k_clusters));
  options.steps = int(args.integer("steps", 1).value_or(options.steps));
  options.traces_per_step = int(args.integer("traces", 1).value_or(options.traces_per_step));
  options.seed = args.seed("", "").value_or(0);  // its mt19937_64 reads all 64 bits
  options.folder = args.text("folder").value_or(std::filesystem::temp_directory_path().string());
  const auto json_path = args.text("json");
  args.finish();
  if (json_path) check_results_file(*json_path);
  // The trace file's writer would create a missing folder, which would then stay behind.
  std::error_code ec;
  if (!std::filesystem::is_directory(options.folder, ec)) {
    throw UserError("--folder '" + options.folder.string() + "' is not a folder: name an existing one (the trace file " +
                    "is written there and removed after)");
  }
  CancelToken cancel;
  InterruptCancel interrupt(cancel);  // Ctrl-C: the trace file goes, not left in the temporary folder
  std::string trace_file;             // and a second one's forced exit removes it too
  options.on_file = [&trace_file](const std::filesystem::path& file) {
    InterruptCancel::remove_on_forced_exit(nullptr);
    trace_file = file.string();
    InterruptCancel::remove_on_forced_exit(trace_file.c_str());
  };
  struct ForgetFile {
    ~ForgetFile() { InterruptCancel::remove_on_forced_exit(nullptr); }  // before trace_file goes
  } forget_file;
  // Seconds to a minute of work with nothing to show: what it is doing, at once.
  std::printf("bench trace: %s of %s each (seed %llu), written to and read from %s\n",
              counted_noun(options.steps, "step", "steps").c_str(),
              counted_noun(options.traces_per_step, "trace", "traces").c_str(),
              static_cast<unsigned long long>(options.seed), options.folder.c_str());
  std::fflush(stdout);
  TraceReadBenchResult result;
  try {
    result = run_saying_out_of_memory(c10::Device(c10::kCPU),
                                      "choose fewer --traces, --tokens, --q-clusters or --k-clusters",
                                      [&] { return run_trace_read_bench(options, cancel); });
  } catch (const Cancelled&) {
    std::fprintf(stderr, "bench trace: cancelled; its file is removed\n");
    return InterruptCancel::exit_status();
  }
  std::printf("host: %s\n%s", cpu_description().c_str(), result.table().c_str());
  if (json_path) {
    nlohmann::json j = result.to_json();
    j["device_description"] = cpu_description();
    write_results_file(*json_path, j, "svgear bench trace");
    std::printf("wrote %s\n", json_path->c_str());
  }
  return 0;
}

int bench_step(int argc, char** argv) {
  CliArgs args(argc, argv, 3);
  if (args.flag("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  DitStepBenchOptions options;
  options.shape = args.text("shape").value_or("tiny");
  for (const std::string& mode : split_list("modes", args.text("modes").value_or("dense,svgear"))) {
    options.modes.push_back(parse_attention_mode(mode));
  }
  options.device = parse_device(args.text("device").value_or("auto"));
  options.dtype = parse_dtype(args.text("dtype").value_or(options.device.is_cuda() ? "bf16" : "f32"));
  options.timed_steps = int(args.integer("steps", 1).value_or(3));
  options.num_steps = int(args.integer("num-steps", 1).value_or(50));
  options.seed = args.seed("weight generator", "weights").value_or(0);  // random weights from the CPU's
  options.base.q_clusters = 0;  // the shape's
  options.base.k_clusters = 0;
  const auto top_p = args.number("top-p");
  options.base.top_p = top_p.value_or(options.base.top_p);
  options.profiled_step = args.flag("profile-step");
  options.expert_swap = args.flag("expert-swap");
  options.fp8 = args.flag("fp8");
  if (options.expert_swap && !options.device.is_cuda()) {
    throw UserError("--expert-swap times moves between a GPU and host memory: give --device cuda");
  }
  // Taken on the CPU too (the extra step's place in the run is the same, which the tests check
  // there), but said: no CUDA profiler listens there, and it had done so without a word.
  if (options.profiled_step && !options.device.is_cuda()) {
    std::fprintf(stderr, "warning: --profile-step marks its step for Nsight Compute on a GPU: on the CPU the "
                         "extra step runs unmarked\n");
  }
  const auto json_path = args.text("json");
  args.finish();
  if (top_p) refuse_attention_options_no_mode_uses({"--top-p"}, options.modes, "--modes dense", kAddASparseMode);
  if (json_path) check_results_file(*json_path);  // before the work, not after it
  CancelToken cancel;
  InterruptCancel interrupt(cancel);
  options.on_progress = bench_progress("step", cancel);
  options.cancel = &cancel;
  const std::optional<DitStepBenchResult> result = run_unless_cancelled("step", cancel, [&] {
    return run_saying_out_of_memory(options.device, "choose a smaller --shape",
                                    [&] { return run_dit_step_bench(options); });
  });
  if (!result) return InterruptCancel::exit_status();
  std::printf("device: %s\n%s", device_description(options.device).c_str(), result->table().c_str());
  if (json_path) {
    nlohmann::json j = result->to_json();
    j["device_description"] = device_description(options.device);
    write_results_file(*json_path, j, "svgear bench step");
    std::printf("wrote %s\n", json_path->c_str());
  }
  return 0;
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  if (argc >= 3 && !std::strcmp(argv[2], "step")) return bench_step(argc, argv);
  if (argc >= 3 && !std::strcmp(argv[2], "trace")) return bench_trace(argc, argv);
  if (argc < 3 || std::strcmp(argv[2], "attention") != 0) {
    if (argc >= 3 && (!std::strcmp(argv[2], "--help") || !std::strcmp(argv[2], "-h"))) {
      std::fputs(kHelp, stdout);
      return 0;
    }
    throw UserError((argc >= 3 ? "svgear bench has no " + quoted_word(argv[2]) + ": it" : std::string("svgear bench")) +
                    " runs `svgear bench attention`, `svgear bench step` or `svgear bench trace` (see --help)");
  }
  CliArgs args(argc, argv, 3);
  if (args.flag("help")) {
    std::fputs(kHelp, stdout);
    return 0;
  }
  AttentionBenchOptions options;
  options.shape = find_bench_shape(args.text("shape").value_or("small"));
  for (const std::string& mode : split_list("modes", args.text("modes").value_or("dense,svg2,svgear"))) {
    options.modes.push_back(parse_attention_mode(mode));
  }
  const auto budgets_text = args.text("budgets");
  for (const std::string& budget : split_list("budgets", budgets_text.value_or("0.5,0.7,0.9,0.95"))) {
    options.budgets.push_back(parse_number("budgets", budget));
    // Checked here, where the option has its name: the attention config's own check names --top-p.
    if (!(options.budgets.back() > 0.0 && options.budgets.back() <= 1.0)) {
      throw UserError("--budgets holds " + budget + ": each budget is a top_p in (0, 1]");
    }
  }
  refuse_repeats("modes", options.modes);
  refuse_repeats("budgets", options.budgets);
  if (const auto inputs = args.text("inputs")) options.inputs = *inputs;
  const std::string device_name = args.text("device").value_or("auto");
  options.device = parse_device(device_name);
  options.dtype = parse_dtype(args.text("dtype").value_or(options.device.is_cuda() ? "bf16" : "f32"));
  options.repeat = args.integer("repeat", 1, kMaxBenchRepeat).value_or(5);
  const auto seed = args.seed("input generator", "inputs");
  options.seed = seed.value_or(0);
  // 0 query clusters is the shape's count, as generate's 0 is the frame size's.
  const auto q_clusters = args.integer("q-clusters", 0);
  const auto k_clusters = args.integer("k-clusters", 1);
  options.base.q_clusters = q_clusters.value_or(0) > 0 ? *q_clusters : options.shape.q_clusters;
  options.base.k_clusters = k_clusters.value_or(options.shape.k_clusters);
  check_attention_config(options.base);
  const auto kernel = args.text("kernel");
  if (!kernel || *kernel == "fastest") {
    options.kernel = KernelPath::Fastest;
  } else if (*kernel == "mma-sync") {
    options.kernel = KernelPath::Portable;
  } else if (*kernel == "reference") {
    options.kernel = KernelPath::Reference;
  } else {
    throw UserError("--kernel expects fastest, mma-sync or reference, got '" + *kernel + "'");
  }
  const auto json_path = args.text("json");
  args.finish();
  // An option that would do nothing in this run is refused, not passed over: the user meant it to
  // change something.
  if (seed && options.inputs) {
    throw UserError("--seed draws the synthetic inputs, and --inputs replaces them with the file's q, k and v: "
                    "drop --seed");
  }
  if (kernel && options.device.is_cpu()) {
    throw UserError(std::string("--kernel chooses the kernels a GPU runs, and this run's device is the CPU") +
                    (device_name == "auto" ? " (--device auto found no GPU)" : "") +
                    ", which runs its own code whatever --kernel says: drop --kernel, or choose a GPU with --device");
  }
  std::vector<std::string> sparse_only;
  if (budgets_text) sparse_only.push_back("--budgets");
  if (q_clusters) sparse_only.push_back("--q-clusters");
  if (k_clusters) sparse_only.push_back("--k-clusters");
  if (kernel) sparse_only.push_back("--kernel");  // dense attention is cuDNN's or ATen's, never ours
  refuse_attention_options_no_mode_uses(sparse_only, options.modes, "--modes dense", kAddASparseMode);
  std::error_code ec;
  if (json_path && options.inputs && std::filesystem::equivalent(*json_path, *options.inputs, ec)) {
    throw UserError("--json '" + *json_path + "' is the --inputs file: the results would replace the activations");
  }
  if (json_path) check_results_file(*json_path);  // before the work, not after it

  const std::string advice =
      options.inputs ? "give a smaller --inputs file (fewer heads or tokens)" : "choose a smaller --shape";
  CancelToken cancel;
  InterruptCancel interrupt(cancel);
  options.on_progress = bench_progress("attention", cancel);
  options.cancel = &cancel;
  const std::optional<AttentionBenchResult> result = run_unless_cancelled("attention", cancel, [&] {
    return run_saying_out_of_memory(options.device, advice, [&] { return run_attention_bench(options); });
  });
  if (!result) return InterruptCancel::exit_status();
  std::printf("device: %s\n%s", device_description(options.device).c_str(), result->table().c_str());
  if (json_path) {
    nlohmann::json j = result->to_json();
    j["device_description"] = device_description(options.device);
    write_results_file(*json_path, j, "svgear bench attention");
    std::printf("wrote %s\n", json_path->c_str());
  }
  return 0;
}

}  // namespace svgear
