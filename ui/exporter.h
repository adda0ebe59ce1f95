#pragma once
// Exporter: writes videos (MP4 / Y4M, or PNG frames) and routing traces (JSON) on its own QThread,
// so encoding a Wan-size result (81 frames of 480×832) or serialising a Wan run's traces (~0.5 GB
// of labels and maps per step) never stalls the window. Jobs run one after another in the
// order given; each ends with exported() or failed(). Writes are atomic (core/media); the window's
// destructor waits for every job queued before it.
//
//   auto* exporter = new Exporter;        // no parent: it moves to its thread
//   exporter->moveToThread(thread);
//   connect(exporter, &Exporter::exported, window, ...);
//   exporter->exportVideo(result, "out.mp4", Exporter::Format::Video);   // returns at once

#include <memory>
#include <vector>

#include <QObject>
#include <QString>

#include "core/media/video.h"
#include "ui/routing_step.h"

namespace svgear {

class Exporter : public QObject {
  Q_OBJECT

 public:
  enum class Format { Video, PngFrames };

  // Any thread: queues the job on the exporter's thread (the frames are shared, not copied). PNG
  // frames go into `path` when it is new or empty, else into a new folder `frames_folder` (then
  // `-2`, `-3`, …) inside it, made when the job runs: files already there are never replaced.
  void exportVideo(SharedVideo video, const QString& path, Format format, const QString& frames_folder = "frames");
  // A Compare as one video: dense | sparse | difference side by side (ui/comparison_video.h).
  void exportComparison(SharedVideo dense, SharedVideo sparse, SharedVideo difference, const QString& path);
  // The steps as core/attention/routing_trace.h's JSON ("svgear-routing-trace/1"). The exporter
  // shares the steps: their holder must not change a step while an export holds it (RoutingPanel
  // copies such a step before dropping its detail).
  void exportRoutingTrace(std::vector<std::shared_ptr<const RoutingStep>> steps, const QString& path);

 Q_SIGNALS:
  // `summary`: what was written ("exported out.mp4", "exported 81 PNG frames to …"); `note`: what
  // the writer chose instead (e.g. Y4M + PNG frames without FFmpeg), empty otherwise.
  void exported(const QString& path, const QString& summary, const QString& note);
  void failed(const QString& path, const QString& message);

 private:
  // Runs `job` (returning what it wrote) on the exporter's thread; its outcome becomes one signal.
  template <typename Job>
  void queue(const QString& path, Job job);
};

}  // namespace svgear
