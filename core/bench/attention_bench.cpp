#include "core/bench/attention_bench.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/DeviceAccelerator.h>

#include "core/allocation_failure.h"
#include "core/attention/attention_backends.h"
#include "core/attention/attention_preset.h"
#include "core/attention/routing_trace.h"
#include "core/attention/svg2_backend.h"
#include "core/bench/measurement.h"
#include "core/text/nearest_words.h"
#include "core/user_error.h"
#include "core/weights/safetensors_file.h"
#include "kernels/block_sparse_attention/block_sparse_attention.h"

namespace svgear {
namespace {

using Clock = std::chrono::steady_clock;

// The bench's calls sit in the last layer, past any dense warm-up (the schedule fractions are also
// set to 0 below), so the sparse path is what gets timed. Each call is one step later than the
// previous one, so the centroid cache warm-starts as in a generation (kBenchSteps is only an upper
// bound on the calls).
constexpr int kBenchLayers = 30;
constexpr int kBenchSteps = 1 << 20;

struct Inputs {
  at::Tensor q, k, v;  // [B, H, N, d] on the bench device, in the bench dtype
  std::string description;
};

Inputs synthetic_inputs(const BenchShape& s, uint64_t seed, c10::Device device, c10::ScalarType dtype) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  const int64_t bh = s.batch * s.heads;
  const auto centres = [&] { return at::randn({bh, kSyntheticComponents, s.head_dim}, gen, f32); };
  const auto labels = [&] { return at::randint(kSyntheticComponents, {bh, s.tokens}, gen, f32.dtype(at::kLong)); };
  const auto around = [&](const at::Tensor& c, const at::Tensor& l) {  // [BH, N, d]
    const at::Tensor mean = at::gather(c, 1, l.unsqueeze(-1).expand({bh, s.tokens, s.head_dim}));
    return mean + kSyntheticNoise * at::randn({bh, s.tokens, s.head_dim}, gen, f32);
  };
  // Centre logits gain²·(c_q·c_k)/√d ~ N(0, gain⁴) = N(0, 3²).
  const double gain = std::sqrt(3.0);
  const at::Tensor q_centres = centres(), k_centres = centres(), v_centres = centres();
  const at::Tensor q_labels = labels(), k_labels = labels();
  const std::vector<int64_t> shape = {s.batch, s.heads, s.tokens, s.head_dim};
  Inputs in;
  in.q = (around(q_centres, q_labels) * gain).view(shape).to(device, dtype);
  in.k = (around(k_centres, k_labels) * gain).view(shape).to(device, dtype);
  in.v = around(v_centres, k_labels).view(shape).to(device, dtype);
  char text[200];
  std::snprintf(text, sizeof text,
                "synthetic: Gaussian mixtures, %d components per head, noise %.2f, centre logits ~ N(0, 3^2), seed %llu",
                kSyntheticComponents, kSyntheticNoise, static_cast<unsigned long long>(seed));
  in.description = text;
  return in;
}

// q, k and v from the file's header first (names, float types, one 4-d shape), so a wrong file
// costs no load; then their values, which must be finite: a NaN or an infinity would make every
// error NaN beside believable timings.
Inputs file_inputs(const std::filesystem::path& path, c10::Device device, c10::ScalarType dtype) {
  const auto file = SafetensorsFile::open(path);
  const char* names[] = {"q", "k", "v"};
  const TensorEntry* entries[3] = {};
  for (int i = 0; i < 3; ++i) {
    entries[i] = file->find(names[i]);
    if (!entries[i]) {
      throw UserError(path.string() + " has no tensor '" + names[i] + "' (expected q, k, v of shape [B, H, N, d])");
    }
    const WeightDtype stored = entries[i]->dtype;
    if (stored != WeightDtype::F32 && stored != WeightDtype::F16 && stored != WeightDtype::BF16) {
      throw UserError(path.string() + ": '" + names[i] + "' is " + weight_dtype_name(stored) +
                      "; activations are F32, F16 or BF16");
    }
    const c10::IntArrayRef shape(entries[i]->shape);
    if (shape.size() != 4) {
      throw UserError(path.string() + ": '" + names[i] + "' must be [B, H, N, d], not " + c10::str(shape));
    }
    if (c10::multiply_integers(shape) == 0) {
      throw UserError(path.string() + ": '" + names[i] + "' is empty (shape " + c10::str(shape) +
                      "): B, H, N and d must each be at least 1");
    }
  }
  if (entries[0]->shape != entries[1]->shape || entries[0]->shape != entries[2]->shape) {
    throw UserError(path.string() + ": q, k and v must have one shape [B, H, N, d]; q is " +
                    c10::str(c10::IntArrayRef(entries[0]->shape)) + ", k " +
                    c10::str(c10::IntArrayRef(entries[1]->shape)) + ", v " +
                    c10::str(c10::IntArrayRef(entries[2]->shape)));
  }
  Inputs in;
  at::Tensor* slots[] = {&in.q, &in.k, &in.v};
  for (int i = 0; i < 3; ++i) {
    *slots[i] = file->load(names[i]).to(device, dtype);
    if (!at::isfinite(*slots[i]).all().item<bool>()) {
      const int64_t first = at::logical_not(at::isfinite(*slots[i])).flatten().nonzero()[0][0].item<int64_t>();
      throw UserError(path.string() + ": '" + names[i] + "' holds a NaN or an infinity, or a value past " +
                      std::string(c10::toString(dtype)) + "'s range (the first at flat index " +
                      std::to_string(first) + "): activations must be finite");
    }
  }
  in.description = "real activations from " + path.string();
  return in;
}

double timed_call_ms(AttentionBackend& backend, const Inputs& in, AttentionCall& call, at::Tensor* out) {
  ++call.step;
  synchronize(in.q.device());
  const auto start = Clock::now();
  *out = backend.forward(in.q, in.k, in.v, call);
  synchronize(in.q.device());
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Keeps the numbers of every trace and drops the per-token labels and maps, which the bench does
// not need and which are large at video sizes.
class TraceSummary : public RoutingTraceSink {
 public:
  void on_trace(RoutingTrace&& trace) override {
    density_sum_ += trace.density;
    ++count_;
    phases_ = {trace.kmeans_ms, trace.permute_ms, trace.probe_ms, trace.routing_ms, trace.attention_ms};
  }
  std::optional<double> density() const { return count_ ? std::optional(density_sum_ / count_) : std::nullopt; }
  std::optional<AttentionBenchPhases> phases() const { return count_ ? std::optional(phases_) : std::nullopt; }

 private:
  double density_sum_ = 0.0;
  int count_ = 0;
  AttentionBenchPhases phases_;
};

double attention_flops(const at::Tensor& q, double density) {
  const double bh = double(q.size(0) * q.size(1)), n = double(q.size(2)), d = double(q.size(3));
  return 4.0 * bh * n * n * d * density;
}

// FlashAttention-2 through ATen's private SDPA entry point (the public one picks cuDNN first on
// Hopper); nullopt where that backend cannot run these inputs.
std::optional<double> flash_sdpa_ms(const Inputs& in, int repeat) {
  if (!in.q.is_cuda()) return std::nullopt;
  std::vector<double> times;
  try {
    for (int i = 0; i <= repeat; ++i) {
      synchronize(in.q.device());
      const auto start = Clock::now();
      at::Tensor o = std::get<0>(at::_scaled_dot_product_flash_attention(in.q, in.k, in.v));
      synchronize(in.q.device());
      if (i > 0) times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
  } catch (const c10::Error& e) {
    if (is_gpu_allocation_failure(e)) throw;  // the shape's size, which bench reports as out of memory
    return std::nullopt;
  }
  return median(times);
}

AttentionBenchRow measure(const AttentionConfig& config, const Inputs& in, AttentionCall call, int repeat,
                          const at::Tensor& reference, at::Tensor* out) {
  AttentionBenchRow row;
  row.mode = config.mode;
  row.top_p = config.mode == AttentionMode::Dense ? 1.0 : config.top_p;
  std::unique_ptr<AttentionBackend> backend;
  try {
    backend = make_attention_backend(config, in.q.device());
  } catch (const UserError& e) {
    row.unavailable = e.what();
    return row;
  }
  row.first_call_ms = timed_call_ms(*backend, in, call, out);
  for (int i = 0; i < repeat; ++i) row.call_ms.push_back(timed_call_ms(*backend, in, call, out));
  row.median_ms = median(row.call_ms);
  if (config.mode == AttentionMode::Dense) {
    row.density = 1.0;
    row.tflops = attention_flops(in.q, 1.0) / (row.median_ms * 1e9);
  }
  if (auto* sparse = dynamic_cast<Svg2Backend*>(backend.get())) {
    TraceSummary summary;
    TraceOptions trace;
    trace.enabled = true;
    sparse->set_trace(trace, &summary);
    at::Tensor traced;
    // ncu --profile-from-start off profiles exactly this call (packaging/gpu/profile-kernels.sh).
    if (in.q.is_cuda()) cuda_profiler(true);
    timed_call_ms(*backend, in, call, &traced);
    if (in.q.is_cuda()) cuda_profiler(false);
    sparse->set_trace(TraceOptions{}, nullptr);
    row.density = summary.density();
    row.phases = summary.phases();
    if (row.density && row.phases && row.phases->attention_ms > 0.0) {
      row.tflops = attention_flops(in.q, *row.density) / (row.phases->attention_ms * 1e9);
    }
  }
  row.relative_l2 = reference.defined() ? relative_l2(*out, reference) : 0.0;
  return row;
}

// A budget in its shortest exact form (0.9, 0.901, 0.9000001): distinct budgets never read alike,
// as 0.9 and 0.901 did at two decimals.
std::string shortest(double x) {
  char text[32];
  return std::string(text, std::to_chars(text, text + sizeof text, x).ptr);
}

std::string format_optional(const std::optional<double>& x, const char* format) {
  if (!x) return "n/a";
  char text[32];
  std::snprintf(text, sizeof text, format, *x);
  return text;
}

}  // namespace

const std::vector<BenchShape>& bench_shapes() {
  static const std::vector<BenchShape> shapes = {
      // Wan2.1-1.3B 480×832×81: latent 21×60×104, patch (1,2,2) → 21×30×52 tokens [spec §1].
      {"wan1.3b-480p", 1, 12, 32760, 128, {21, 30, 52}, 200, 1000},
      {"wan14b-720p", 1, 40, 75600, 128, {21, 45, 80}, 300, 1000},
      // Video tokens only; Hunyuan's 256 text tokens are not part of the clustered attention.
      {"hunyuan-720p", 1, 24, 118800, 128, {33, 45, 80}, 400, 1000},
      {"tiny", 1, 2, 1000, 64, {10, 10, 10}, 16, 64},
      {"small", 1, 4, 4096, 64, {16, 16, 16}, 64, 256},
  };
  return shapes;
}

BenchShape find_bench_shape(std::string_view name) {
  std::vector<std::string> names;
  for (const BenchShape& s : bench_shapes()) {
    if (s.name == name) return s;
    names.push_back(s.name);
  }
  throw UserError("unknown bench shape '" + std::string(name) + "' (" + typo_hint(name, names) + "choose " +
                  alternatives(names, "", "") + ")");
}

AttentionBenchResult run_attention_bench(const AttentionBenchOptions& options) {
  if (options.repeat < 1 || options.repeat > kMaxBenchRepeat) {
    throw UserError("--repeat must be from 1 to " + std::to_string(kMaxBenchRepeat) + ", got " +
                    std::to_string(options.repeat));
  }
  for (double p : options.budgets) {
    AttentionConfig budget = options.base;
    budget.top_p = p;
    check_attention_config(budget);
  }
  const ScopedKernelPath kernel_choice(options.kernel);
  AttentionBenchResult result;
  result.device = options.device.str();
  result.dtype = c10::toString(options.dtype);
  const Inputs in = options.inputs ? file_inputs(*options.inputs, options.device, options.dtype)
                                   : synthetic_inputs(options.shape, options.seed, options.device, options.dtype);
  result.inputs = in.description;
  result.shape = options.shape;
  // The counts the sparse rows ran with (--q-clusters / --k-clusters), not the shape's defaults;
  // more clusters than tokens run as one per token (centroid_cache.cpp), and say so.
  if (options.base.q_clusters > 0) result.shape.q_clusters = options.base.q_clusters;
  if (options.base.k_clusters > 0) result.shape.k_clusters = options.base.k_clusters;
  result.shape.q_clusters = int(std::min<int64_t>(result.shape.q_clusters, in.q.size(2)));
  result.shape.k_clusters = int(std::min<int64_t>(result.shape.k_clusters, in.q.size(2)));
  result.sparse_attention_kernel =
      block_sparse_kernel_name(options.device, options.dtype, in.q.size(3), result.shape.k_clusters);
  if (options.inputs) {
    result.shape.name = "file";
    result.shape.batch = in.q.size(0);
    result.shape.heads = in.q.size(1);
    result.shape.tokens = in.q.size(2);
    result.shape.head_dim = in.q.size(3);
    result.shape.grid = {1, 1, int(in.q.size(2))};
  }

  AttentionCall call;
  call.layer = kBenchLayers - 1;
  call.num_layers = kBenchLayers;
  call.step = 0;  // timed_call_ms advances it before every call
  call.num_steps = kBenchSteps;
  call.grid = result.shape.grid;
  call.cancel = options.cancel;

  const auto progress = [&](const std::string& what) {
    if (options.on_progress) options.on_progress(what);
  };
  const std::string calls = std::to_string(options.repeat + 1) + " calls, the first untimed";
  AttentionConfig dense = options.base;
  dense.mode = AttentionMode::Dense;
  at::Tensor reference;
  progress("dense: " + calls);
  result.rows.push_back(measure(dense, in, call, options.repeat, at::Tensor(), &reference));
  // Finite inputs can still overflow the logits (values near 1e20 in f32): every error against
  // such a reference would be NaN beside believable timings.
  if (!at::isfinite(reference).all().item<bool>()) {
    const double largest = at::maximum(in.q.abs().max(), in.k.abs().max()).item<double>();
    char text[160];
    std::snprintf(text, sizeof text,
                  "dense attention of these inputs is not finite: q·k overflows in %s (q and k hold values up to "
                  "%.3g); scale the activations down",
                  options.dtype == c10::kFloat ? "f32" : options.dtype == c10::kBFloat16 ? "bf16" : c10::toString(options.dtype),
                  largest);
    throw UserError((options.inputs ? options.inputs->string() + ": " : std::string()) + text);
  }
  if (in.q.is_cuda()) progress("dense through FlashAttention-2's SDPA: " + calls);
  result.dense_flash_ms = flash_sdpa_ms(in, options.repeat);

  for (AttentionMode mode : options.modes) {
    if (mode == AttentionMode::Dense) continue;
    for (double budget : options.budgets) {
      AttentionConfig config = options.base;
      config.mode = mode;
      config.q_clusters = result.shape.q_clusters;  // the counts reported (0 in `base`: the shape's)
      config.k_clusters = result.shape.k_clusters;
      config.top_p = budget;
      config.dense_warmup_steps = 0.0;
      config.dense_layers = 0.0;
      at::Tensor out;
      char budget_text[32];
      std::snprintf(budget_text, sizeof budget_text, "%g", budget);
      progress(std::string(attention_mode_name(mode)) + " at top_p " + budget_text + ": " + calls);
      result.rows.push_back(measure(config, in, call, options.repeat, reference, &out));
      if (!result.rows.back().unavailable.empty()) break;  // the same reason for every budget
    }
  }
  const double dense_ms = result.rows.front().median_ms;
  for (AttentionBenchRow& row : result.rows) {
    if (!row.unavailable.empty() || row.median_ms <= 0.0) continue;
    if (dense_ms > 0.0) row.speedup_vs_dense = dense_ms / row.median_ms;
    if (result.dense_flash_ms) row.speedup_vs_flash = *result.dense_flash_ms / row.median_ms;
    if (const auto& p = row.phases) {
      const double total = p->kmeans_ms + p->permute_ms + p->probe_ms + p->routing_ms + p->attention_ms;
      if (total > 0.0) row.overhead_share = (p->kmeans_ms + p->probe_ms + p->routing_ms) / total;
    }
  }
  return result;
}

nlohmann::json AttentionBenchResult::to_json() const {
  nlohmann::json rows_json = nlohmann::json::array();
  for (const AttentionBenchRow& r : rows) {
    nlohmann::json j = {{"mode", attention_mode_name(r.mode)}, {"top_p", r.top_p}};
    if (!r.unavailable.empty()) {
      j["unavailable"] = r.unavailable;
    } else {
      j["density"] = r.density ? nlohmann::json(*r.density) : nlohmann::json(nullptr);
      j["relative_l2_vs_dense"] = r.relative_l2;
      j["first_call_ms"] = r.first_call_ms;
      j["median_ms"] = r.median_ms;
      j["call_ms"] = r.call_ms;
      if (r.tflops) j["tflops"] = *r.tflops;
      if (r.speedup_vs_dense) j["speedup_vs_dense"] = *r.speedup_vs_dense;
      if (r.speedup_vs_flash) j["speedup_vs_flash"] = *r.speedup_vs_flash;
      if (r.overhead_share) j["overhead_share"] = *r.overhead_share;
      if (r.phases) {
        j["phases_ms"] = {{"kmeans", r.phases->kmeans_ms},
                          {"permute", r.phases->permute_ms},
                          {"probe", r.phases->probe_ms},
                          {"routing", r.phases->routing_ms},
                          {"attention", r.phases->attention_ms}};
      }
    }
    rows_json.push_back(j);
  }
  return {{"inputs", inputs},
          {"device", device},
          {"dtype", dtype},
          {"sparse_attention_kernel", sparse_attention_kernel},
          {"shape",
           {{"name", shape.name},
            {"batch", shape.batch},
            {"heads", shape.heads},
            {"tokens", shape.tokens},
            {"head_dim", shape.head_dim},
            {"q_clusters", shape.q_clusters},
            {"k_clusters", shape.k_clusters}}},
          {"rows", rows_json},
          {"dense_flash_ms", dense_flash_ms ? nlohmann::json(*dense_flash_ms) : nlohmann::json(nullptr)}};
}

std::string AttentionBenchResult::table() const {
  std::string text;
  // Built whole, not through a fixed buffer: the inputs line names a file of any length.
  text += "shape " + shape.name + ": B=" + std::to_string(shape.batch) + " H=" + std::to_string(shape.heads) +
          " N=" + std::to_string(shape.tokens) + " d=" + std::to_string(shape.head_dim) + ", " + device + ", " + dtype +
          "\ninputs " + inputs + "\n";
  // The sparse settings only where a sparse mode ran: a dense-only bench uses neither.
  if (std::any_of(rows.begin(), rows.end(), [](const AttentionBenchRow& r) { return r.mode != AttentionMode::Dense; })) {
    text += "sparse attention kernel: " + sparse_attention_kernel + ", " + std::to_string(shape.q_clusters) + " query / " +
            std::to_string(shape.k_clusters) + " key clusters\n";
  }
  char line[512];
  std::snprintf(line, sizeof line, "%-7s %6s %8s %10s %10s %11s %7s %7s %8s %9s  %s\n", "mode", "top_p", "density",
                "rel L2", "ms/call", "first ms", "xdense", "xFA2", "TFLOP/s", "overhead",
                "phases ms (kmeans/permute/probe/routing/attention, traced call)");
  text += line;
  for (const AttentionBenchRow& r : rows) {
    if (!r.unavailable.empty()) {
      std::snprintf(line, sizeof line, "%-7s  unavailable: %s\n", attention_mode_name(r.mode), r.unavailable.c_str());
    } else {
      char phases[96] = "-";
      if (r.phases) {
        std::snprintf(phases, sizeof phases, "%.2f / %.2f / %.2f / %.2f / %.2f", r.phases->kmeans_ms,
                      r.phases->permute_ms, r.phases->probe_ms,
                      r.phases->routing_ms, r.phases->attention_ms);
      }
      const std::optional<double> overhead_percent =
          r.overhead_share ? std::optional<double>(100.0 * *r.overhead_share) : std::nullopt;
      std::snprintf(line, sizeof line, "%-7s %6s %8s %10.2e %10.2f %11.2f %7s %7s %8s %9s  %s\n",
                    attention_mode_name(r.mode), shortest(r.top_p).c_str(),
                    format_optional(r.density, "%.3f").c_str(), r.relative_l2,
                    r.median_ms, r.first_call_ms, format_optional(r.speedup_vs_dense, "%.2f").c_str(),
                    format_optional(r.speedup_vs_flash, "%.2f").c_str(), format_optional(r.tflops, "%.3g").c_str(),
                    format_optional(overhead_percent, "%.0f%%").c_str(), phases);
    }
    text += line;
  }
  // The two rates are of different times: said under the table, which had left it to the JSON's docs.
  if (std::any_of(rows.begin(), rows.end(), [](const AttentionBenchRow& r) { return r.phases && r.tflops; })) {
    text += "TFLOP/s: a dense row's over ms/call; a sparse row's, its computed blocks' over the traced call's "
            "attention phase\n";
  }
  if (dense_flash_ms && !rows.empty() && rows.front().median_ms > 0.0) {
    std::snprintf(line, sizeof line, "dense through FlashAttention-2 SDPA: %.2f ms/call (cuDNN-first row above: %.2f)\n",
                  *dense_flash_ms, rows.front().median_ms);
    text += line;
  }
  return text;
}

}  // namespace svgear
