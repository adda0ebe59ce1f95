#include "core/decoder/wan_vae_decoder.h"

#include <cstring>
#include <sstream>
#include <string>
#include <utility>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include "core/allocation_failure.h"
#include "core/user_error.h"
#include "kernels/video_to_rgb8/video_to_rgb8.h"

namespace svgear {
namespace {

Video to_video(const at::Tensor& rgb8, double fps) {  // rgb8: [F, H, W, 3] uint8
  const at::Tensor host = rgb8.cpu().contiguous();
  Video video;
  video.frames = int(host.size(0));
  video.height = int(host.size(1));
  video.width = int(host.size(2));
  video.fps = fps;
  video.rgb.resize(size_t(host.numel()));
  if (!video.rgb.empty()) std::memcpy(video.rgb.data(), host.data_ptr<uint8_t>(), video.rgb.size());
  return video;
}

// "use 464 or 472": the valid values (offset + k·step, at least `minimum`) around `value`.
std::string nearest_valid(int value, int step, int offset, int minimum) {
  if (value <= minimum) return "use " + std::to_string(minimum);
  const int below = (value - offset) / step * step + offset;
  return "use " + std::to_string(below) + " or " + std::to_string(below + step);
}

at::ScalarType compute_dtype(at::Device device, at::ScalarType requested) {
  // float32 on the CPU, where the reference tolerance holds (bf16 there: 0.020 relative, tiny VAE)
  if (device.is_cpu()) return at::kFloat;
  if (requested == at::kFloat || requested == at::kBFloat16) return requested;
  throw UserError(std::string("the Wan VAE runs in float32 or bfloat16 on ") + device.str() +
                  ", not " + c10::toString(requested) + ": choose bf16 or fp32 for the VAE");
}

// A latent of another model family (Wan 2.1 models make 16 channels, Wan2.2-TI2V-5B 48) must not
// reach the convs.
void check_latent(const at::Tensor& latent, const WanVaeConfig& c) {
  if (latent.dim() == 4 && latent.size(0) == c.z_dim && latent.size(1) >= 1) return;
  std::ostringstream os;
  os << "the " << wan_vae_version_name(c.version) << " VAE decodes latents of " << c.z_dim
     << " channels [" << c.z_dim << ", frames, height, width], got " << latent.sizes()
     << ": the diffusion model and the VAE do not belong together (a 48-channel latent comes from "
        "Wan2.2-TI2V-5B, which needs the Wan 2.2 VAE; a 16-channel one from a Wan 2.1 model, which "
        "needs the Wan 2.1 VAE)";
  throw UserError(os.str());
}

}  // namespace

std::unique_ptr<WanVaeDecoder> WanVaeDecoder::open(const std::filesystem::path& path,
                                                   at::Device device, at::ScalarType dtype,
                                                   LatentTiling tiling) {
  const at::ScalarType compute = compute_dtype(device, dtype);
  WanVae vae(WanVaeWeights::load(path));
  vae.to(device, compute);
  return std::make_unique<WanVaeDecoder>(std::move(vae), tiling);
}

WanVaeDecoder::WanVaeDecoder(WanVae vae, LatentTiling tiling)
    : vae_(std::move(vae)), tiling_(tiling) {}

LatentShape WanVaeDecoder::latent_shape(int frames, int height, int width) const {
  const WanVaeConfig& c = vae_.config();
  const int t = c.temporal_factor();
  const int s = c.spatial_factor();
  if (frames < 1 || (frames - 1) % t != 0) {
    throw UserError("Wan makes " + std::to_string(t) + "n+1 frames (1, " + std::to_string(1 + t) + ", " +
                    std::to_string(1 + 2 * t) + ", ...): " + std::to_string(frames) + " is not one; " +
                    nearest_valid(frames, t, 1, 1) + " frames");
  }
  for (auto [side, value] : {std::pair{"height", height}, std::pair{"width", width}}) {
    if (value < s || value % s != 0) {
      throw UserError(std::string("the Wan VAE needs a ") + side + " that is a multiple of " +
                      std::to_string(s) + ": " + std::to_string(value) + " is not; " +
                      nearest_valid(value, s, 0, s));
    }
  }
  return {c.z_dim, (frames - 1) / t + 1, height / s, width / s};
}

at::Tensor WanVaeDecoder::decode_tensor(const at::Tensor& latent, const CancelToken* cancel, DecodeReport* report) const {
  check_latent(latent, vae_.config());
  const int s = vae_.config().spatial_factor();
  const auto tiles = [&] {
    return decode_in_tiles(latent, tiling_, s, [&](const at::Tensor& tile) { return vae_.decode(tile, cancel); });
  };
  if (!vae_.device().is_cuda()) return tiles();
  const std::pair<int64_t, int64_t> size{latent.size(2), latent.size(3)};
  const bool one_tile = fits_one_tile(latent, tiling_);  // its tiles would be the same decode
  bool known_too_big = false;
  {
    const std::lock_guard<std::mutex> lock(too_big_mutex_);
    known_too_big = !one_tile && whole_frames_too_big_.count(size) > 0;
  }
  if (!known_too_big) {
    try {
      return vae_.decode(latent, cancel);
    } catch (const c10::Error& e) {
      if (one_tile || !is_gpu_allocation_failure(e)) throw;
      // The failed decode's tensors are freed by now (cached by the allocator): the tiles get them.
      const std::lock_guard<std::mutex> lock(too_big_mutex_);
      whole_frames_too_big_.insert(size);
    }
  }
  at::Tensor video = tiles();
  if (report) {
    report->tiles_after_out_of_memory = true;
    report->note = "the VAE ran out of GPU memory decoding whole " + std::to_string(size.second * s) + "×" +
                   std::to_string(size.first * s) + " frames, as upstream does, so it decoded them in tiles of " +
                   std::to_string(tiling_.tile * s) + " pixels: the video differs slightly from a whole-frame "
                   "decode. To decode whole frames, free GPU memory: keep the text encoder off the GPU or free it "
                   "after encoding (--text-encoder-device cpu, --free-text-encoder), keep an idle expert in host "
                   "memory (--idle-expert-on-cpu), or quantise the diffusion model (--dit-fp8); the studio's "
                   "Model dock has the same boxes";
  }
  return video;
}

Video WanVaeDecoder::decode(const at::Tensor& latent, double fps, const CancelToken* cancel, DecodeReport* report) const {
  const at::Tensor pixels = decode_tensor(latent, cancel, report);
  // The 8-bit conversion clamps a NaN to black: a VAE file that parses but holds NaN or infinite
  // numbers made a black video that reported success.
  if (!pixels.isfinite().all().item<bool>()) {
    throw UserError("the Wan VAE decoded non-finite values (NaN or infinity): its weights may hold NaN or "
                    "infinite numbers; download the VAE file again");
  }
  return to_video(video_to_rgb8(pixels), fps);
}

const LatentRgbProjection& WanVaeDecoder::preview_projection() const {
  std::call_once(projection_fitted_, [&] {
    const WanVaeConfig& c = vae_.config();
    if (!c.preview_rgb_factors.empty()) {
      projection_ = LatentRgbProjection::from_rows(c.preview_rgb_factors);
      return;
    }
    projection_ = LatentRgbProjection::fit([&](const at::Tensor& z) { return vae_.decode(z); },
                                           c.z_dim, c.temporal_factor(), c.spatial_factor());
  });
  return projection_;
}

Video WanVaeDecoder::preview(const at::Tensor& latent, double fps) const {
  const WanVaeConfig& c = vae_.config();
  check_latent(latent, c);
  const at::Tensor rgb = preview_projection().apply(latent);           // [3, T, h, w]
  // latent frame 0 → video frame 0; latent frame k ≥ 1 → temporal_factor frames
  const int64_t frames = 1 + c.temporal_factor() * (rgb.size(1) - 1);
  const at::Tensor source_frame = at::div(
      at::arange(frames, rgb.options().dtype(at::kLong)) + (c.temporal_factor() - 1),
      c.temporal_factor(), "floor");
  const at::Tensor rgb8 = video_to_rgb8(rgb.index_select(1, source_frame));  // [F, h, w, 3]
  return to_video(rgb8.repeat_interleave(c.spatial_factor(), 1)
                      .repeat_interleave(c.spatial_factor(), 2),
                  fps);                                                 // [F, H, W, 3]
}

}  // namespace svgear
