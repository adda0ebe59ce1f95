#include "ui/exporter.h"

#include <exception>
#include <filesystem>
#include <string>

#include "core/media/png_writer.h"
#include "core/media/video_output.h"
#include "core/pipeline/routing_trace_file.h"
#include "ui/comparison_video.h"
#include "ui/counted.h"

namespace svgear {
namespace {

struct Written {
  QString path;     // where it went (the writer may change the extension)
  QString summary;  // "exported out.mp4"
  QString note;     // what the writer chose instead, or empty
};

struct FramesFolder {
  std::filesystem::path path;  // where the frames go
  std::filesystem::path made;  // the outermost folder of `path` this call made; empty for none
};

// `chosen` when this call makes it or finds it empty, else a new folder `name`, `name-2`, … inside it,
// made here (create_directory fails for a name taken meanwhile): the frame writer replaces the
// frame_NNNN.png it finds, which must never be files the user keeps. A folder that cannot be listed
// counts as holding files.
FramesFolder fresh_frames_folder(const std::filesystem::path& chosen, const std::string& name) {
  std::error_code ec;
  std::filesystem::path outermost_missing;
  for (std::filesystem::path p = chosen; !p.empty() && !std::filesystem::exists(p, ec) && !ec; p = p.parent_path()) {
    outermost_missing = p;
    if (p == p.parent_path()) break;
  }
  if (std::filesystem::create_directories(chosen, ec)) return {chosen, outermost_missing};
  if (!std::filesystem::is_directory(chosen, ec)) return {chosen, {}};  // a file, or not creatable: the writer says why
  if (const std::filesystem::directory_iterator listing(chosen, ec); !ec && listing == std::filesystem::directory_iterator()) {
    return {chosen, {}};
  }
  for (int n = 1;; ++n) {
    const std::filesystem::path candidate = chosen / (n == 1 ? name : name + "-" + std::to_string(n));
    if (std::filesystem::create_directory(candidate, ec)) return {candidate, candidate};
    if (ec) return {candidate, {}};  // the writer's error
  }
}

Written write(const Video& video, const QString& path, Exporter::Format format, const QString& frames_folder) {
  if (format == Exporter::Format::PngFrames) {
    std::filesystem::path chosen = path.toStdString();
    if (!chosen.has_filename()) chosen = chosen.parent_path();  // "out/frames/": the folder's own name
    const FramesFolder folder = fresh_frames_folder(chosen, frames_folder.toStdString());
    const QString where = QString::fromStdString(folder.path.string());
    try {
      const auto frames = write_png_frames(video, folder.path);
      const QString count = counted(qsizetype(frames.size()), Exporter::tr("PNG frame"), Exporter::tr("PNG frames"));
      return {where, Exporter::tr("exported %1 to %2").arg(count, where), QString()};
    } catch (...) {
      // A failed export (a full disk) leaves no empty folder of ours behind, nor one per retry;
      // a folder that holds anything stays.
      std::error_code ec;
      for (std::filesystem::path p = folder.path; !folder.made.empty(); p = p.parent_path()) {
        if (!std::filesystem::remove(p, ec) || p == folder.made) break;
      }
      throw;
    }
  }
  const VideoOutputResult written = write_video(video, path.toStdString());
  const QString where = QString::fromStdString(written.path.string());
  return {where, Exporter::tr("exported %1").arg(where), QString::fromStdString(written.note)};
}

// Steps whose maps the Routing panel dropped (it keeps them for its newest steps) say so in the
// file ("maps_dropped"), and so does the log.
Written write_routing_trace(const std::vector<std::shared_ptr<const RoutingStep>>& steps, const QString& path) {
  RoutingTraceFile file(path.toStdString());
  for (const auto& step : steps) file.add(*step);
  file.commit();
  const int without_maps = file.steps_without_maps();
  const QString summary = Exporter::tr("exported the routing of %1 to %2")
                              .arg(counted(qsizetype(steps.size()), Exporter::tr("step"), Exporter::tr("steps")), path);
  const QString note = without_maps == 0 ? QString()
                                         : Exporter::tr("%1 of them without their maps (labels, block maps, error "
                                                        "estimates): the Routing panel keeps those for its newest steps")
                                               .arg(without_maps);
  return {path, summary, note};
}

}  // namespace

void Exporter::exportVideo(SharedVideo video, const QString& path, Format format, const QString& frames_folder) {
  queue(path, [video = std::move(video), path, format, frames_folder] { return write(*video, path, format, frames_folder); });
}

void Exporter::exportComparison(SharedVideo dense, SharedVideo sparse, SharedVideo difference, const QString& path) {
  queue(path, [dense = std::move(dense), sparse = std::move(sparse), difference = std::move(difference), path] {
    return write(side_by_side(*dense, *sparse, *difference), path, Format::Video, QString());
  });
}

void Exporter::exportRoutingTrace(std::vector<std::shared_ptr<const RoutingStep>> steps, const QString& path) {
  queue(path, [steps = std::move(steps), path] { return write_routing_trace(steps, path); });
}

template <typename Job>
void Exporter::queue(const QString& path, Job job) {
  QMetaObject::invokeMethod(
      this,
      [this, path, job = std::move(job)] {
        // Every job ends in exported() or failed(): the window counts them, and waits for them on close.
        try {
          const Written written = job();
          Q_EMIT exported(written.path, written.summary, written.note);
        } catch (const std::exception& e) {
          Q_EMIT failed(path, QString::fromStdString(e.what()));
        } catch (...) {
          Q_EMIT failed(path, tr("unknown error"));
        }
      },
      Qt::QueuedConnection);
}

}  // namespace svgear
