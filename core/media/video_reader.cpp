#include "core/media/video_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "core/io/file_extension.h"
#include "core/media/media_error.h"
#include "svgear/build_config.h"

#if SVGEAR_HAVE_FFMPEG
#include "core/media/ffmpeg_handles.h"
#endif

namespace svgear {
namespace {

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& why) {
  throw MediaError("cannot read '" + path.string() + "': " + why);
}

uint8_t to_byte(float value) { return uint8_t(std::clamp(std::lround(value), 0L, 255L)); }

void poll(const CancelToken* cancel) {
  if (cancel) cancel->throw_if_cancelled();
}

// Called before a frame is added to `video`: the bytes it would hold then must fit `max_bytes`.
void check_room_for_frame(const std::filesystem::path& path, const Video& video, size_t max_bytes) {
  if (video.frame_bytes() * (size_t(video.frames) + 1) > max_bytes) {
    fail(path, "its frames decode to more than the " + std::to_string(max_bytes >> 20) +
                   " MiB of memory this reader may take (" + std::to_string(video.frames) + " frames of " +
                   std::to_string(video.width) + "x" + std::to_string(video.height) + " so far)");
  }
}

// YUV4MPEG2 with 8-bit 4:4:4, 4:2:2, 4:2:0 (any siting, read as co-sited) or mono planes;
// BT.601, limited range unless the file says XCOLORRANGE=FULL (as write_y4m's do).
Video read_y4m(const std::filesystem::path& path, const CancelToken* cancel, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "the file cannot be opened");
  std::string header;
  std::getline(in, header);
  if (!header.starts_with("YUV4MPEG2 ")) fail(path, "not a YUV4MPEG2 file");

  Video video;
  long fps_num = 0, fps_den = 1;
  int chroma_x = 2, chroma_y = 2;  // the format's default is 4:2:0
  bool mono = false, full_range = false;
  std::istringstream tokens(header.substr(10));
  for (std::string token; tokens >> token;) {
    const std::string value = token.substr(1);
    switch (token[0]) {
      case 'W': video.width = std::atoi(value.c_str()); break;
      case 'H': video.height = std::atoi(value.c_str()); break;
      case 'F': std::sscanf(value.c_str(), "%ld:%ld", &fps_num, &fps_den); break;
      case 'C':
        if (value == "444") {
          chroma_x = chroma_y = 1;
        } else if (value == "422") {
          chroma_x = 2, chroma_y = 1;
        } else if (value == "mono") {
          mono = true;
        } else if (value != "420" && value != "420jpeg" && value != "420paldv" &&
                   value != "420mpeg2") {
          fail(path, "colour space C" + value + " is not supported (8-bit 444, 422, 420 or mono)");
        }
        break;
      case 'X':
        if (value == "COLORRANGE=FULL") full_range = true;
        break;
    }
  }
  if (video.width <= 0 || video.height <= 0 || video.width > kMaxVideoSide || video.height > kMaxVideoSide) {
    fail(path, "the header has no valid W/H size (1.." + std::to_string(kMaxVideoSide) + ")");
  }
  if (fps_num > 0 && fps_den > 0) video.fps = double(fps_num) / double(fps_den);

  const size_t pixels = size_t(video.height) * video.width;
  const int chroma_width = (video.width + chroma_x - 1) / chroma_x;
  const size_t chroma_pixels = size_t(chroma_width) * ((video.height + chroma_y - 1) / chroma_y);
  std::vector<uint8_t> planes(pixels + (mono ? 0 : 2 * chroma_pixels));
  const float luma_scale = full_range ? 1.0f : 255.0f / 219.0f;
  const float chroma_scale = full_range ? 1.0f : 255.0f / 224.0f;
  const float luma_offset = full_range ? 0.0f : 16.0f;

  for (std::string frame_line; std::getline(in, frame_line);) {
    poll(cancel);
    if (!frame_line.starts_with("FRAME")) fail(path, "frame " + std::to_string(video.frames) +
                                                         " does not start with FRAME");
    if (!in.read(reinterpret_cast<char*>(planes.data()), std::streamsize(planes.size()))) {
      fail(path, "frame " + std::to_string(video.frames) + " is truncated");
    }
    check_room_for_frame(path, video, max_bytes);
    video.rgb.resize(video.rgb.size() + pixels * 3);
    uint8_t* rgb = video.frame(video.frames++);
    for (int y = 0; y < video.height; ++y) {
      for (int x = 0; x < video.width; ++x) {
        const size_t i = size_t(y) * video.width + x;
        const size_t c = size_t(y / chroma_y) * chroma_width + x / chroma_x;
        const float luma = (planes[i] - luma_offset) * luma_scale;
        const float cb = mono ? 0.0f : (planes[pixels + c] - 128.0f) * chroma_scale;
        const float cr = mono ? 0.0f : (planes[pixels + chroma_pixels + c] - 128.0f) * chroma_scale;
        rgb[3 * i] = to_byte(luma + 1.402f * cr);
        rgb[3 * i + 1] = to_byte(luma - 0.344136f * cb - 0.714136f * cr);
        rgb[3 * i + 2] = to_byte(luma + 1.772f * cb);
      }
    }
  }
  if (video.frames == 0) fail(path, "the file has no frames");
  return video;
}

#if SVGEAR_HAVE_FFMPEG

struct InputDeleter {
  void operator()(AVFormatContext* format) const { avformat_close_input(&format); }
};

// Decodes the best video stream of any file FFmpeg can open.
class FfmpegDecoder {
 public:
  FfmpegDecoder(const std::filesystem::path& path, const CancelToken* cancel, size_t max_bytes)
      : path_(path), cancel_(cancel), max_bytes_(max_bytes) {
    AVFormatContext* format = nullptr;
    // "file:" first: FFmpeg would read a name such as "12:30.mp4" as protocol "12". Only files, also
    // for what the file names in turn (a playlist posing as a video).
    AVDictionary* options = nullptr;
    av_dict_set(&options, "protocol_whitelist", "file", 0);
    const int opened = avformat_open_input(&format, ("file:" + path.string()).c_str(), nullptr, &options);
    av_dict_free(&options);
    check(opened, "opening");
    format_.reset(format);
    check(avformat_find_stream_info(format_.get(), nullptr), "probing");
    const AVCodec* codec = nullptr;
    stream_index_ = av_find_best_stream(format_.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (stream_index_ < 0) fail(path_, "the file has no video stream FFmpeg can decode");
    AVStream* stream = format_->streams[stream_index_];
    codec_.reset(avcodec_alloc_context3(codec));
    frame_.reset(av_frame_alloc());
    packet_.reset(av_packet_alloc());
    if (!codec_ || !frame_ || !packet_) check(AVERROR(ENOMEM), "allocating");
    check(avcodec_parameters_to_context(codec_.get(), stream->codecpar), "setting up the decoder");
    codec_->thread_count = 0;  // one thread per core
    check(avcodec_open2(codec_.get(), codec, nullptr), "opening the decoder");
    const AVRational rate = av_guess_frame_rate(format_.get(), stream, nullptr);
    if (rate.num > 0 && rate.den > 0) video_.fps = av_q2d(rate);
  }

  Video decode() {
    while (true) {
      poll(cancel_);
      const int read = av_read_frame(format_.get(), packet_.get());
      if (read == AVERROR_EOF) break;
      check(read, "reading");
      if (packet_->stream_index == stream_index_) send(packet_.get());
      av_packet_unref(packet_.get());
    }
    send(nullptr);
    if (video_.frames == 0) fail(path_, "the video stream has no decodable frames");
    return std::move(video_);
  }

 private:
  void check(int code, const char* step) const {
    if (code < 0) fail(path_, std::string(step) + " failed (" + ffmpeg::error_text(code) + ")");
  }

  // Sends a packet (nullptr: end of stream) and converts every frame the decoder has ready.
  void send(const AVPacket* packet) {
    check(avcodec_send_packet(codec_.get(), packet), "decoding");
    while (true) {
      const int received = avcodec_receive_frame(codec_.get(), frame_.get());
      if (received == AVERROR(EAGAIN) || received == AVERROR_EOF) return;
      check(received, "decoding");
      append(*frame_);
      av_frame_unref(frame_.get());
    }
  }

  void append(const AVFrame& frame) {
    if (video_.frames == 0) {
      video_.width = frame.width;
      video_.height = frame.height;
    }
    check_room_for_frame(path_, video_, max_bytes_);
    // FFmpeg's default conversion, as the ffmpeg command (and imageio, which the papers' metric.py
    // reads videos with) does it: bicubic flags alone, so yuv420p -> rgb24 takes swscale's unscaled
    // converter. Decoded PSNR is then the figure their tools report for the same file.
    sws_.reset(sws_getCachedContext(sws_.release(), frame.width, frame.height,
                                    AVPixelFormat(frame.format), video_.width, video_.height,
                                    AV_PIX_FMT_RGB24, SWS_BICUBIC, nullptr, nullptr, nullptr));
    if (!sws_) check(AVERROR(EINVAL), "converting to RGB");
    // The frame's own matrix and range (our MP4s: BT.709 limited), as the command's scale filter
    // takes them.
    sws_setColorspaceDetails(sws_.get(), sws_getCoefficients(frame.colorspace),
                             frame.color_range == AVCOL_RANGE_JPEG,
                             sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
    // Into a frame with FFmpeg's aligned rows, as the command's are: the SIMD converter writes
    // whole groups of 8 pixels and, on rows too short for the last group, leaves it unconverted.
    if (!rgb_) {
      rgb_.reset(av_frame_alloc());
      if (!rgb_) check(AVERROR(ENOMEM), "allocating");
      rgb_->format = AV_PIX_FMT_RGB24;
      rgb_->width = video_.width;
      rgb_->height = video_.height;
      check(av_frame_get_buffer(rgb_.get(), 0), "allocating");
    }
    sws_scale(sws_.get(), frame.data, frame.linesize, 0, frame.height, rgb_->data, rgb_->linesize);
    video_.rgb.resize(video_.rgb.size() + video_.frame_bytes());
    uint8_t* rgb = video_.frame(video_.frames);
    const size_t row_bytes = size_t(video_.width) * 3;
    for (int y = 0; y < video_.height; ++y) {
      std::memcpy(rgb + y * row_bytes, rgb_->data[0] + size_t(y) * rgb_->linesize[0], row_bytes);
    }
    ++video_.frames;
  }

  std::filesystem::path path_;
  const CancelToken* cancel_;
  size_t max_bytes_;
  std::unique_ptr<AVFormatContext, InputDeleter> format_;
  int stream_index_ = -1;
  ffmpeg::CodecContextPtr codec_;
  ffmpeg::FramePtr frame_;
  ffmpeg::PacketPtr packet_;
  ffmpeg::SwsPtr sws_;
  ffmpeg::FramePtr rgb_;  // the converter's output, before its rows are packed into video_
  Video video_;
};

Video read_with_ffmpeg(const std::filesystem::path& path, const CancelToken* cancel, size_t max_bytes) {
  return FfmpegDecoder(path, cancel, max_bytes).decode();
}

#else  // no FFmpeg in this build

Video read_with_ffmpeg(const std::filesystem::path& path, const CancelToken*, size_t) {
  fail(path, "FFmpeg is not available in this build; only .y4m files can be read");
}

#endif

}  // namespace

Video read_video(const std::filesystem::path& path, const CancelToken* cancel, size_t max_bytes) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) fail(path, "no such file");
  return lowercase_extension(path) == ".y4m" ? read_y4m(path, cancel, max_bytes)
                                             : read_with_ffmpeg(path, cancel, max_bytes);
}

void crop_mp4_padding(Video& video, int height, int width) {
  if (height <= 0 || width <= 0 || (video.height == height && video.width == width)) return;
  if (video.height != height + height % 2 || video.width != width + width % 2) return;
  // Row by row towards the front: every row moves to an offset at or before its own.
  const size_t row_bytes = size_t(width) * 3;
  uint8_t* to = video.rgb.data();
  for (int f = 0; f < video.frames; ++f) {
    for (int y = 0; y < height; ++y) {
      std::memmove(to, video.frame(f) + size_t(y) * video.width * 3, row_bytes);
      to += row_bytes;
    }
  }
  video.height = height;
  video.width = width;
  video.rgb.resize(video.frame_bytes() * video.frames);
}

}  // namespace svgear
