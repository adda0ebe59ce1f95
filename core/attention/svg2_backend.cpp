#include "core/attention/svg2_backend.h"

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/detail/CUDAHooksInterface.h>

#include "core/attention/attention_preset.h"
#include "core/attention/sparse_schedule.h"
#include "core/user_error.h"
#include "kernels/block_routing/block_routing.h"
#include "kernels/block_sparse_attention/block_sparse_attention.h"
#include "kernels/error_probe/error_probe.h"
#include "kernels/kmeans/kmeans.h"

namespace svgear {
namespace {

// k-means++ in 16 rounds: k-means++'s clusters (within 5%) without its K sequential passes, chosen by
// measurement (kmeans.h, docs/attention-notes.md).
constexpr KMeansInit kCentroidInit = KMeansInit::KMeansPlusPlusRounds;

CentroidCacheOptions cache_options(const AttentionConfig& config) {
  CentroidCacheOptions options;
  options.q_clusters = config.q_clusters;
  options.k_clusters = config.k_clusters;
  options.init_iters = config.kmeans_init_iters;
  options.step_iters = config.kmeans_step_iters;
  options.init = kCentroidInit;
  return options;
}

// Row `row` of a contiguous CPU tensor [rows, cols] as a vector.
template <typename T>
std::vector<T> row_vector(const at::Tensor& cpu, int64_t row) {
  const int64_t cols = cpu.numel() / cpu.size(0);
  const T* begin = cpu.data_ptr<T>() + row * cols;
  return std::vector<T>(begin, begin + cols);
}

}  // namespace

Svg2Backend::PhaseClock::PhaseClock(bool enabled, at::Device device)
    : enabled_(enabled), device_(device), last_(std::chrono::steady_clock::now()) {
  lap_ms();
}

double Svg2Backend::PhaseClock::lap_ms() {
  if (!enabled_) return 0.0;
  if (device_.is_cuda()) at::detail::getCUDAHooks().deviceSynchronize(device_.index());
  const auto now = std::chrono::steady_clock::now();
  const double ms = std::chrono::duration<double, std::milli>(now - last_).count();
  last_ = now;
  return ms;
}

Svg2Backend::Svg2Backend(const AttentionConfig& config) : Svg2Backend(config, AttentionMode::Svg2) {}

Svg2Backend::Svg2Backend(const AttentionConfig& config, AttentionMode mode)
    : config_(config), mode_(mode), cache_(cache_options(config)) {}

bool Svg2Backend::supports(const AttentionConfig& config, at::Device device,
                           std::string* why) const {
  auto refuse = [why](std::string reason) {
    if (why) *why = std::move(reason);
    return false;
  };
  if (config.mode != mode_) {
    return refuse(std::string("the ") + attention_mode_name(mode_) + " backend computes only '" +
                  attention_mode_name(mode_) + "' attention, not '" +
                  attention_mode_name(config.mode) + "'");
  }
  if (!device.is_cpu() && !device.is_cuda()) {
    return refuse("sparse attention runs on CPU and CUDA devices only, not " + device.str());
  }
  // The checks every front end runs (CLI, presets, the studio), here too for callers that build a
  // config by hand: a NaN gamma or warm-up fraction would route on NaN scores without a word.
  try {
    check_attention_config(config);
  } catch (const UserError& e) {
    return refuse(e.what());
  }
  if (config.q_clusters == 0) {
    return refuse("q_clusters 0 (the frame size's default) must be resolved to a count first "
                  "(GenerationRequest::resolve, default_q_clusters)");
  }
  return true;
}

void Svg2Backend::set_trace(const TraceOptions& options, RoutingTraceSink* sink) {
  trace_options_ = options;
  trace_sink_ = sink;
}

at::Tensor Svg2Backend::forward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const AttentionCall& call) {
  TORCH_CHECK(q.dim() == 4, "q must be [B, H, N, d], got ", q.sizes());
  TORCH_CHECK(k.sizes() == q.sizes(), "k must be [B, H, N, d] = ", q.sizes(), " like q, got ",
              k.sizes());
  TORCH_CHECK(v.sizes() == q.sizes(), "v must be [B, H, N, d] = ", q.sizes(), " like q, got ",
              v.sizes());
  TORCH_CHECK(q.scalar_type() == k.scalar_type() && q.scalar_type() == v.scalar_type(),
              "q, k and v must share a dtype, got ", q.scalar_type(), ", ", k.scalar_type(), ", ",
              v.scalar_type());
  TORCH_CHECK(q.device() == k.device() && q.device() == v.device(),
              "q, k and v must be on one device, got ", q.device(), ", ", k.device(), ", ",
              v.device());
  const int64_t b = q.size(0), h = q.size(1), n = q.size(2), d = q.size(3);
  if (call_is_dense(config_, call) || n == 0) {
    if (n > 0 && call_warms_centroids(config_, call)) {
      cache_.cluster(q.reshape({b * h, n, d}), k.reshape({b * h, n, d}), call.layer, call.branch, call.step,
                     KMeansPoints::Skip, call.cancel);
    }
    return dense_.forward(q, k, v, call);
  }

  const bool tracing = trace_sink_ != nullptr && trace_selects_layer(trace_options_, call.layer);
  PhaseClock clock(tracing, q.device());

  // Batch and heads flatten into B·H independent problems (spec P5). At B = 1 these are views
  // whatever the strides: the DiT's tokens-first values are read in place.
  at::Tensor qf = q.reshape({b * h, n, d});  // [BH, N, d]
  at::Tensor kf = k.reshape({b * h, n, d});  // [BH, N, d]
  at::Tensor vf = v.reshape({b * h, n, d});  // [BH, N, d]
  // k-means hands back Q and K in cluster order (on CUDA its last update writes them as it reads
  // every row in that order).
  ClusteredQK clusters =
      cache_.cluster(qf, kf, call.layer, call.branch, call.step, KMeansPoints::InClusterOrder, call.cancel);
  const double kmeans_ms = clock.lap_ms();
  // Between the phases, which on a CPU at large sizes take minutes each (a host-side check: no sync).
  if (call.cancel) call.cancel->throw_if_cancelled();
  ClusterLayout q_layout = clusters.q.layout;
  ClusterLayout k_layout = clusters.k.layout;
  PermutedCall permuted{clusters.q.points, clusters.k.points, vf, {}, {}, {}, q_layout, k_layout,
                        1.0 / std::sqrt(double(d))};
  // At B = 1 the output is stored tokens first ([N, H, d]), so the caller's head merge (the DiT's
  // o.transpose(1, 2).reshape) is a view, not a copy.
  permuted.out = b == 1 ? at::empty({n, h, d}, q.options()).permute({1, 0, 2})  // [H, N, d] view
                        : at::empty({b * h, n, d}, q.options());
  if (!permutes_values_in_route()) permuted.vp = gather_tokens(vf, k_layout.order);
  permuted.clusters = std::move(clusters);
  const double permute_ms = clock.lap_ms();

  if (call.cancel) call.cancel->throw_if_cancelled();
  RoutedOutput routed = route_and_attend(permuted, clock);
  at::Tensor o = routed.output.view({b, h, n, d});  // [B, H, N, d]
  if (tracing) emit_traces(q, k, v, call, permuted, routed, kmeans_ms, permute_ms, o);
  return o;
}

Svg2Backend::RoutedOutput Svg2Backend::route_and_attend(const PermutedCall& call,
                                                        PhaseClock& clock) {
  RoutedOutput out;
  at::Tensor logits = centroid_logits(call.clusters.q.centroids, call.clusters.k.centroids,
                                      call.scale);  // [BH, Qc, Kc]
  out.probe_ms = clock.lap_ms();
  out.block_mask = route_svg2(logits, call.clusters.k.sizes, config_.top_p, config_.min_kc_ratio);
  out.routing_ms = clock.lap_ms();
  out.output = call.out;
  block_sparse_attention_out(out.output, call.qp, call.kp, call.vp, call.q_layout.offsets, call.k_layout.offsets,
                             out.block_mask, call.scale, /*compensation=*/nullptr, call.q_layout.order);
  out.attention_ms = clock.lap_ms();
  return out;
}

void Svg2Backend::emit_traces(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                              const AttentionCall& call, const PermutedCall& permuted,
                              const RoutedOutput& routed, double kmeans_ms, double permute_ms,
                              const at::Tensor& o) {
  const int64_t b = q.size(0), h = q.size(1);
  const int64_t bh = b * h;
  at::Tensor measured;  // [BH] float64 on the CPU, audit mode only
  if (trace_audits_layer(trace_options_, call.layer)) {
    at::Tensor dense = dense_.forward(q, k, v, call).to(at::kDouble).reshape({bh, -1});  // [BH, N·d]
    at::Tensor diff = o.to(at::kDouble).reshape({bh, -1}) - dense;                       // [BH, N·d]
    measured = (diff.square().sum(1).sqrt() / dense.square().sum(1).sqrt().clamp_min(1e-300)).cpu();
  }
  const ClusteredQK& clusters = permuted.clusters;
  at::Tensor density =
      block_density(routed.block_mask, clusters.q.sizes, clusters.k.sizes).to(at::kCPU, at::kDouble);  // [BH]
  at::Tensor estimated;  // [BH] float64 on the CPU, with a probe only
  at::Tensor log_error;  // [BH, Qc·Kc] float32 on the CPU
  if (routed.log_error.defined()) {
    // The compensated blocks of query clusters with tokens: an empty one's row keeps finite
    // estimates from its stale centroid, but no token's output carries them.
    const at::Tensor not_compensated = routed.block_mask | (clusters.q.sizes == 0).unsqueeze(2);
    at::Tensor compensated = routed.log_error.masked_fill(not_compensated, -std::numeric_limits<double>::infinity());
    estimated = at::logsumexp(compensated.reshape({bh, -1}), 1).to(at::kDouble).cpu();
    log_error = routed.log_error.reshape({bh, -1}).to(at::kFloat).cpu().contiguous();
  }
  at::Tensor q_labels = clusters.q.labels.to(at::kCPU, at::kInt).contiguous();
  at::Tensor k_labels = clusters.k.labels.to(at::kCPU, at::kInt).contiguous();
  at::Tensor q_sizes = clusters.q.sizes.to(at::kCPU, at::kLong).contiguous();
  at::Tensor k_sizes = clusters.k.sizes.to(at::kCPU, at::kLong).contiguous();
  // An empty query cluster computes nothing, though routing (like the reference's) keeps its row's
  // most probable blocks: the map shows none for it, so a trace never claims work for no tokens.
  at::Tensor block_map = (routed.block_mask & (clusters.q.sizes > 0).unsqueeze(2))
                             .reshape({bh, -1})
                             .to(at::kCPU, at::kByte)
                             .contiguous();

  for (int64_t bi = 0; bi < b; ++bi) {
    for (int64_t hi = 0; hi < h; ++hi) {
      if (!trace_selects_head(trace_options_, int(hi))) continue;
      const int64_t row = bi * h + hi;
      RoutingTrace trace;
      trace.step = call.step;
      trace.layer = call.layer;
      trace.batch = int(bi);
      trace.head = int(hi);
      trace.q_clusters = int(q_sizes.size(1));
      trace.k_clusters = int(k_sizes.size(1));
      trace.q_labels = row_vector<int32_t>(q_labels, row);
      trace.k_labels = row_vector<int32_t>(k_labels, row);
      trace.q_sizes = row_vector<int64_t>(q_sizes, row);
      trace.k_sizes = row_vector<int64_t>(k_sizes, row);
      trace.block_map = row_vector<uint8_t>(block_map, row);
      if (log_error.defined()) {
        trace.block_log_error = row_vector<float>(log_error, row);
        trace.estimated_log_error = estimated[row].item<double>();
      }
      trace.density = density[row].item<double>();
      if (measured.defined()) trace.measured_relative_l2 = measured[row].item<double>();
      trace.kmeans_ms = kmeans_ms;
      trace.permute_ms = permute_ms;
      trace.probe_ms = routed.probe_ms;
      trace.routing_ms = routed.routing_ms;
      trace.attention_ms = routed.attention_ms;
      trace_sink_->on_trace(std::move(trace));
    }
  }
}

}  // namespace svgear
