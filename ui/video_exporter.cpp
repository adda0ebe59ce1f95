#include "ui/video_exporter.h"

#include <exception>

#include "core/media/png_writer.h"
#include "core/media/video_output.h"

namespace svgear {

void VideoExporter::exportVideo(std::shared_ptr<const Video> video, const QString& path, Format format) {
  QMetaObject::invokeMethod(this, [this, video = std::move(video), path, format] { run(video, path, format); },
                            Qt::QueuedConnection);
}

void VideoExporter::run(const std::shared_ptr<const Video>& video, const QString& path, Format format) {
  try {
    if (format == Format::PngFrames) {
      const auto written = write_png_frames(*video, path.toStdString());
      Q_EMIT exported(path, tr("exported %1 PNG frames to %2").arg(written.size()).arg(path), QString());
    } else {
      const VideoOutputResult written = write_video(*video, path.toStdString());
      const QString where = QString::fromStdString(written.path.string());
      Q_EMIT exported(where, tr("exported %1").arg(where), QString::fromStdString(written.note));
    }
  } catch (const std::exception& e) {
    Q_EMIT failed(path, QString::fromStdString(e.what()));
  } catch (...) {
    Q_EMIT failed(path, tr("unknown error"));  // the window must hear back, or it waits forever
  }
}

}  // namespace svgear
