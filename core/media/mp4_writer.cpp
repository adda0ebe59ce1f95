#include "core/media/mp4_writer.h"

#include "core/media/media_error.h"
#include "svgear/build_config.h"

#if SVGEAR_HAVE_FFMPEG

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <vector>

extern "C" {
#include <libavutil/log.h>
}

#include "core/io/atomic_file.h"
#include "core/media/ffmpeg_handles.h"

namespace svgear {
namespace {

constexpr std::array<const char*, 10> kPresets = {"ultrafast", "superfast", "veryfast", "faster",
                                                  "fast",      "medium",    "slow",     "slower",
                                                  "veryslow",  "placebo"};

struct OutputDeleter {
  void operator()(AVFormatContext* format) const {
    if (format->pb) avio_closep(&format->pb);
    avformat_free_context(format);
  }
};

// Copies a frame into `out` (padded_height x padded_width, already sized), repeating the last column
// and row where the padded size is larger (4:2:0 needs even sizes).
void copy_padded(const uint8_t* rgb, int height, int width, int padded_height, int padded_width, uint8_t* out) {
  for (int y = 0; y < padded_height; ++y) {
    const uint8_t* src = rgb + size_t(std::min(y, height - 1)) * width * 3;
    uint8_t* dst = out + size_t(y) * padded_width * 3;
    std::memcpy(dst, src, size_t(width) * 3);
    if (padded_width > width) std::memcpy(dst + width * 3, src + (width - 1) * 3, 3);
  }
}

// One H.264 stream muxed into an MP4 at `file`; the caller owns the atomic rename.
class Mp4Encoder {
 public:
  Mp4Encoder(const std::filesystem::path& file, const std::filesystem::path& shown_path,
             const Video& video, const Mp4Options& options)
      : shown_path_(shown_path), width_(video.width + video.width % 2),
        height_(video.height + video.height % 2) {
    const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
    if (!codec) {
      throw MediaError("cannot write '" + shown_path_.string() +
                       "': this FFmpeg has no libx264 encoder (install an FFmpeg built with "
                       "libx264, or write .y4m / PNG frames instead)");
    }
    // "file:" first, here and in avio_open: FFmpeg would read a name such as "12:30.mp4" as protocol
    // "12", and faststart reopens the file by this name.
    const std::string url = "file:" + file.string();
    AVFormatContext* format = nullptr;
    check(avformat_alloc_output_context2(&format, nullptr, "mp4", url.c_str()),
          "setting up the MP4 muxer");
    format_.reset(format);
    stream_ = avformat_new_stream(format_.get(), nullptr);
    codec_.reset(avcodec_alloc_context3(codec));
    frame_.reset(av_frame_alloc());
    packet_.reset(av_packet_alloc());
    if (!stream_ || !codec_ || !frame_ || !packet_) check(AVERROR(ENOMEM), "allocating");

    // 16 -> 16/1, 24000/1001 stays exact; one tick of the time base is one frame.
    const AVRational rate = av_d2q(video.fps, 1001000);
    if (rate.num <= 0) {
      throw MediaError("cannot write '" + shown_path_.string() + "': the frame rate " +
                       std::to_string(video.fps) + " is too small to store in an MP4");
    }
    codec_->width = width_;
    codec_->height = height_;
    codec_->pix_fmt = AV_PIX_FMT_YUV420P;
    codec_->time_base = av_inv_q(rate);
    codec_->framerate = rate;
    codec_->color_range = AVCOL_RANGE_MPEG;
    codec_->colorspace = AVCOL_SPC_BT709;
    codec_->color_primaries = AVCOL_PRI_BT709;
    codec_->color_trc = AVCOL_TRC_BT709;
    if (format_->oformat->flags & AVFMT_GLOBALHEADER) {
      codec_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    }
    AVDictionary* codec_options = nullptr;
    av_dict_set(&codec_options, "preset", options.preset.c_str(), 0);
    av_dict_set_int(&codec_options, "crf", options.crf, 0);
    // The same frames must give the same file. x264's AVX-512 mb-tree propagation (0.164 at least)
    // reads uninitialised memory, so its output changed with the heap's contents; cpu-independent
    // swaps only those two functions for C (same quality and size within 0.3%, a few % slower).
    av_dict_set(&codec_options, "x264-params", "cpu-independent=1", 0);
    const int opened = avcodec_open2(codec_.get(), codec, &codec_options);
    av_dict_free(&codec_options);
    check(opened, "opening the x264 encoder");

    check(avcodec_parameters_from_context(stream_->codecpar, codec_.get()),
          "setting up the stream");
    stream_->time_base = codec_->time_base;
    stream_->avg_frame_rate = rate;
    check(avio_open(&format_->pb, url.c_str(), AVIO_FLAG_WRITE), "creating the file");
    AVDictionary* muxer_options = nullptr;
    if (options.faststart) av_dict_set(&muxer_options, "movflags", "+faststart", 0);
    const int header = avformat_write_header(format_.get(), &muxer_options);
    av_dict_free(&muxer_options);
    check(header, "writing the MP4 header");

    frame_->format = codec_->pix_fmt;
    frame_->width = width_;
    frame_->height = height_;
    check(av_frame_get_buffer(frame_.get(), 0), "allocating a frame");
    sws_.reset(sws_getContext(width_, height_, AV_PIX_FMT_RGB24, width_, height_,
                              AV_PIX_FMT_YUV420P,
                              SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, nullptr,
                              nullptr, nullptr));
    if (!sws_) check(AVERROR(ENOMEM), "setting up the colour conversion");
    // Full-range sRGB in, BT.709 limited range out, matching the tags set above.
    sws_setColorspaceDetails(sws_.get(), sws_getCoefficients(SWS_CS_DEFAULT), 1,
                             sws_getCoefficients(SWS_CS_ITU709), 0, 0, 1 << 16, 1 << 16);
  }

  // `rgb` is [height, width, 3], the video's own size.
  void encode(const uint8_t* rgb, int height, int width) {
    // swscale reads its source in 16-byte vectors past the end of a row: it gets a copy with
    // slack at the end (the last frame of Video::rgb would otherwise be read past its block).
    staged_.resize(size_t(height_) * width_ * 3 + AV_INPUT_BUFFER_PADDING_SIZE);
    copy_padded(rgb, height, width, height_, width_, staged_.data());
    check(av_frame_make_writable(frame_.get()), "allocating a frame");
    const uint8_t* source[1] = {staged_.data()};
    const int stride[1] = {width_ * 3};
    sws_scale(sws_.get(), source, stride, 0, height_, frame_->data, frame_->linesize);
    frame_->pts = next_pts_++;
    send(frame_.get());
  }

  void finish() {
    send(nullptr);
    check(av_write_trailer(format_.get()), "finishing the MP4");
    check(avio_closep(&format_->pb), "closing the file");
  }

 private:
  void check(int code, const char* step) const {
    if (code < 0) {
      throw MediaError("cannot write '" + shown_path_.string() + "': " + step + " failed (" +
                       ffmpeg::error_text(code) + ")");
    }
  }

  // Sends a frame (nullptr: end of stream) and muxes every packet the encoder has ready.
  void send(const AVFrame* frame) {
    check(avcodec_send_frame(codec_.get(), frame), "encoding");
    while (true) {
      const int received = avcodec_receive_packet(codec_.get(), packet_.get());
      if (received == AVERROR(EAGAIN) || received == AVERROR_EOF) return;
      check(received, "encoding");
      // x264 leaves durations unset; without them the muxer guesses the last frame's length.
      if (packet_->duration == 0) packet_->duration = 1;
      packet_->stream_index = stream_->index;
      av_packet_rescale_ts(packet_.get(), codec_->time_base, stream_->time_base);
      check(av_interleaved_write_frame(format_.get(), packet_.get()), "writing a frame");
    }
  }

  std::filesystem::path shown_path_;
  int width_;
  int height_;
  int64_t next_pts_ = 0;
  std::unique_ptr<AVFormatContext, OutputDeleter> format_;
  AVStream* stream_ = nullptr;
  ffmpeg::CodecContextPtr codec_;
  ffmpeg::FramePtr frame_;
  ffmpeg::PacketPtr packet_;
  ffmpeg::SwsPtr sws_;
  std::vector<uint8_t> staged_;
};

}  // namespace

// An FFmpeg without libx264 (Fedora's ffmpeg-free, say) cannot write our MP4s: callers then fall
// back to Y4M before the work, not fail after it.
bool mp4_supported() { return avcodec_find_encoder_by_name("libx264") != nullptr; }

std::string write_mp4(const Video& video, const std::filesystem::path& path, const Mp4Options& options) {
  check_video_for_output(video, path);
  if (options.crf < 0 || options.crf > 51) {
    throw MediaError("cannot write '" + path.string() + "': crf " + std::to_string(options.crf) +
                     " is outside 0..51 (18 looks visually lossless, 23 is x264's default)");
  }
  if (std::find(kPresets.begin(), kPresets.end(), options.preset) == kPresets.end()) {
    throw MediaError("cannot write '" + path.string() + "': unknown x264 preset '" +
                     options.preset + "' (use ultrafast, superfast, veryfast, faster, fast, "
                     "medium, slow, slower, veryslow or placebo)");
  }
  // x264 prints its statistics at info level; our errors carry their own messages.
  av_log_set_level(std::min(av_log_get_level(), AV_LOG_WARNING));

  AtomicFile file(path);
  {
    Mp4Encoder encoder(file.temp_path(), path, video, options);
    for (int f = 0; f < video.frames; ++f) encoder.encode(video.frame(f), video.height, video.width);
    encoder.finish();
  }
  std::string checksum = file.checksum();
  file.commit();
  return checksum;
}

}  // namespace svgear

#else  // no FFmpeg in this build

namespace svgear {

bool mp4_supported() { return false; }

std::string write_mp4(const Video& video, const std::filesystem::path& path, const Mp4Options&) {
  throw MediaError("cannot write '" + path.string() +
                   "': FFmpeg is not available in this build, so MP4 cannot be written; "
                   "PNG frames and .y4m output still work");
}

}  // namespace svgear

#endif
