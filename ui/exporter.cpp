#include "ui/exporter.h"

#include <exception>

#include <nlohmann/json.hpp>

#include "core/attention/routing_trace.h"
#include "core/io/atomic_file.h"
#include "core/media/png_writer.h"
#include "core/media/video_output.h"
#include "ui/comparison_video.h"

namespace svgear {

void Exporter::exportVideo(SharedVideo video, const QString& path, Format format) {
  QMetaObject::invokeMethod(this, [this, video = std::move(video), path, format] { run(video, path, format); },
                            Qt::QueuedConnection);
}

void Exporter::exportComparison(SharedVideo dense, SharedVideo sparse, SharedVideo difference, const QString& path) {
  QMetaObject::invokeMethod(
      this,
      [this, dense = std::move(dense), sparse = std::move(sparse), difference = std::move(difference), path] {
        run(std::make_shared<const Video>(side_by_side(*dense, *sparse, *difference)), path, Format::Video);
      },
      Qt::QueuedConnection);
}

void Exporter::exportRoutingTrace(std::vector<std::shared_ptr<const RoutingStep>> steps, const QString& path) {
  QMetaObject::invokeMethod(this, [this, steps = std::move(steps), path] { runRoutingTrace(steps, path); },
                            Qt::QueuedConnection);
}

void Exporter::runRoutingTrace(const std::vector<std::shared_ptr<const RoutingStep>>& steps, const QString& path) {
  try {
    nlohmann::json out = {{"format", "svgear-routing-trace/1"}, {"steps", nlohmann::json::array()}};
    for (const auto& step : steps) {
      nlohmann::json traces = nlohmann::json::array();
      for (const RoutingTrace& trace : step->traces) traces.push_back(routing_trace_to_json(trace));
      out["steps"].push_back({{"step", step->step},
                              {"num_steps", step->num_steps},
                              {"num_layers", step->num_layers},
                              {"num_heads", step->num_heads},
                              {"grid", {{"frames", step->grid_frames}, {"height", step->grid_height}, {"width", step->grid_width}}},
                              {"traces", std::move(traces)}});
    }
    write_file_atomically(path.toStdString(), out.dump() + "\n");
    Q_EMIT exported(path, tr("exported the routing of %n step(s) to %1", nullptr, int(steps.size())).arg(path), QString());
  } catch (const std::exception& e) {
    Q_EMIT failed(path, QString::fromStdString(e.what()));
  } catch (...) {
    Q_EMIT failed(path, tr("unknown error"));
  }
}

void Exporter::run(const SharedVideo& video, const QString& path, Format format) {
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
