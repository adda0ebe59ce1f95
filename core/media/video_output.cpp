#include "core/media/video_output.h"

#include <algorithm>
#include <cctype>

#include "core/io/atomic_file.h"
#include "core/io/file_extension.h"
#include "core/io/file_name_limit.h"
#include "core/media/media_error.h"
#include "core/media/mp4_writer.h"
#include "core/media/png_writer.h"
#include "core/media/y4m_writer.h"

namespace svgear {

VideoFormat video_format_for(const std::filesystem::path& path) {
  if (!path.has_filename()) return VideoFormat::PngFrames;  // "out/"
  const std::string extension = lowercase_extension(path);
  if (extension.empty()) return VideoFormat::PngFrames;
  if (extension == ".mp4") return VideoFormat::Mp4;
  if (extension == ".y4m") return VideoFormat::Y4m;
  return VideoFormat::Unset;
}

namespace {

[[noreturn]] void throw_unsupported(const std::filesystem::path& requested) {
  // The same name as each kind the writer makes: "out/clip.png" → out/clip.mp4, out/clip/; a video's
  // name with more after it, "clip.mp4.json", → clip.mp4 (not clip.mp4.mp4), clip/.
  std::filesystem::path stem = requested.parent_path() / requested.stem();
  std::string video = stem.string() + ".mp4";
  if (video_format_for(stem) == VideoFormat::Mp4 || video_format_for(stem) == VideoFormat::Y4m) {
    video = stem.string();
    stem.replace_extension();
  }
  throw MediaError("cannot write '" + requested.string() + "': unsupported output type '" +
                   requested.extension().string() + "' (use .mp4 or .y4m, as in '" + video +
                   "', or a folder for PNG frames, one per frame: end its name with '/', as in '" + stem.string() +
                   "/')");
}

std::string y4m_instead_note(const std::filesystem::path& requested, const std::filesystem::path& y4m) {
  return "this build writes no MP4 (no FFmpeg with libx264): " + requested.string() + " is written as " +
         y4m.string() + ", uncompressed Y4M (mpv, VLC and ffplay play it)";
}

// An MP4 of odd sides is stored a column or row larger (write_mp4): players show that size, and
// the record and messages name the clip's. H.264's cropping cannot take one pixel off 4:2:0.
std::string padded_mp4_note(const Video& video) {
  if (video.width % 2 == 0 && video.height % 2 == 0) return {};
  const int width = video.width + video.width % 2, height = video.height + video.height % 2;
  return "the MP4 is " + std::to_string(width) + "×" + std::to_string(height) + ": H.264 in 4:2:0 takes even sides, "
         "so the " + std::to_string(video.width) + "×" + std::to_string(video.height) +
         " clip's last column or row is repeated (a .y4m or PNG frames keep its size)";
}

}  // namespace

void check_video_output(const std::filesystem::path& requested) {
  if (video_format_for(requested) == VideoFormat::Unset) throw_unsupported(requested);
  // ".mp4" alone is a hidden folder's name to the file system (no stem, no extension): a video
  // meant, a name left out.
  std::string name = requested.filename().string();
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (name == ".mp4" || name == ".y4m") {
    throw MediaError("cannot write '" + requested.string() + "': the video has no name before its extension; name it, "
                     "as in '" + (requested.parent_path() / ("clip" + requested.filename().string())).string() + "'");
  }
  // The root as a PNG folder: its frames and its record ("/.json") would land in /.
  if (const std::filesystem::path absolute = std::filesystem::absolute(requested).lexically_normal();
      absolute == absolute.root_path()) {
    throw MediaError("cannot write '" + requested.string() + "': that is the root folder; name a folder for the PNG "
                     "frames, as in '/tmp/frames/'");
  }
  const std::filesystem::path written = video_output_path(requested);  // a .y4m for an .mp4 without FFmpeg
  const VideoFormat format = video_format_for(written);
  check_file_name_lengths(written);
  // The folder the writer creates or writes in: the PNG folder itself, else the file and its
  // folder (a link or a device by the file's name is refused too: the writer's rename would
  // replace it).
  try {
    if (format == VideoFormat::PngFrames) {
      check_output_folder(written);
    } else {
      check_output_file(written);
    }
  } catch (const UserError& e) {
    // A name without an extension is a PNG folder; one that names a file (/dev/null, a README) is
    // more likely meant as a video than as a folder.
    std::error_code ec;
    if (format == VideoFormat::PngFrames && std::filesystem::exists(written, ec) &&
        !std::filesystem::is_directory(written, ec)) {
      throw MediaError("cannot write '" + written.string() + "': a name without .mp4 or .y4m is a folder of PNG frames, "
                       "and " + written.string() + " is a file; for a video, end the name with .mp4 or .y4m");
    }
    // check_output_file names the file (or its folder); the PNG folder's check is named here.
    throw MediaError(format == VideoFormat::PngFrames ? "cannot write '" + written.string() + "': " + e.what()
                                                      : std::string(e.what()));
  }
}

std::string mp4_fallback_note(const std::filesystem::path& requested) {
  const std::filesystem::path written = video_output_path(requested);
  return written == requested ? std::string() : y4m_instead_note(requested, written);
}

std::filesystem::path video_output_path(const std::filesystem::path& requested) {
  if (video_format_for(requested) != VideoFormat::Mp4 || mp4_supported()) return requested;
  return std::filesystem::path(requested).replace_extension(".y4m");
}

VideoOutputResult write_video(const Video& video, const std::filesystem::path& requested) {
  return write_video(video, requested, mp4_supported());
}

VideoOutputResult write_video(const Video& video, const std::filesystem::path& requested,
                              bool mp4_available) {
  switch (video_format_for(requested)) {
    case VideoFormat::Mp4: {
      if (mp4_available) {
        std::string checksum = write_mp4(video, requested);
        return {requested, VideoFormat::Mp4, padded_mp4_note(video), std::move(checksum)};
      }
      const std::filesystem::path y4m = std::filesystem::path(requested).replace_extension(".y4m");
      std::string checksum = write_y4m(video, y4m);
      return {y4m, VideoFormat::Y4m, y4m_instead_note(requested, y4m), std::move(checksum)};
    }
    case VideoFormat::Y4m:
      return {requested, VideoFormat::Y4m, {}, write_y4m(video, requested)};
    case VideoFormat::PngFrames:
      write_png_frames(video, requested);
      return {requested, VideoFormat::PngFrames, {}, {}};
    case VideoFormat::Unset:
      break;
  }
  throw_unsupported(requested);
}

}  // namespace svgear
