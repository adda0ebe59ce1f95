#pragma once
// VideoExporter: writes videos (MP4 / Y4M, or PNG frames) on its own QThread, so encoding a
// Wan-size result (81 frames of 480×832) never stalls the window. Jobs run one after another in the
// order given; each ends with exported() or failed(). Writes are atomic (core/media); the window's
// destructor waits for every job queued before it.
//
//   auto* exporter = new VideoExporter;        // no parent: it moves to its thread
//   exporter->moveToThread(thread);
//   connect(exporter, &VideoExporter::exported, window, ...);
//   exporter->exportVideo(result, "out.mp4", VideoExporter::Format::Video);   // returns at once

#include <memory>

#include <QObject>
#include <QString>

#include "core/media/video.h"

namespace svgear {

class VideoExporter : public QObject {
  Q_OBJECT

 public:
  enum class Format { Video, PngFrames };

  // Any thread: queues the job on the exporter's thread (the frames are shared, not copied).
  void exportVideo(std::shared_ptr<const Video> video, const QString& path, Format format);

 Q_SIGNALS:
  // `summary`: what was written ("exported out.mp4", "exported 81 PNG frames to …"); `note`: what
  // the writer chose instead (e.g. Y4M + PNG frames without FFmpeg), empty otherwise.
  void exported(const QString& path, const QString& summary, const QString& note);
  void failed(const QString& path, const QString& message);

 private:
  void run(const std::shared_ptr<const Video>& video, const QString& path, Format format);
};

}  // namespace svgear
