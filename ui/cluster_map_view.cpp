#include "ui/cluster_map_view.h"

#include <algorithm>

#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>

#include "ui/cluster_palette.h"
#include "ui/counted.h"

namespace svgear {

ClusterMapView::ClusterMapView(QWidget* parent) : QWidget(parent) {
  setMinimumSize(120, 120);
  setMouseTracking(true);
}

void ClusterMapView::setLabels(const std::vector<int32_t>& labels, int clusters, int frames, int height, int width,
                               const QString& why_none) {
  why_none_ = why_none;
  const bool valid = !labels.empty() && size_t(frames) * height * width == labels.size();
  labels_ = valid ? labels : std::vector<int32_t>();
  frames_ = valid ? frames : 0;
  height_ = valid ? height : 0;
  width_ = valid ? width : 0;
  sizes_.assign(valid ? clusters : 0, 0);
  for (int32_t label : labels_) {
    if (label >= 0 && label < clusters) ++sizes_[label];
  }
  frame_ = std::clamp(frame_, 0, std::max(0, frames_ - 1));
  rebuild();
}

void ClusterMapView::setFrame(int frame) {
  frame_ = std::clamp(frame, 0, std::max(0, frames_ - 1));
  rebuild();
}

void ClusterMapView::setUnderlay(const QImage& frame) {
  underlay_ = frame;
  update();
}

void ClusterMapView::setOpacity(double opacity) {
  opacity_ = std::clamp(opacity, 0.0, 1.0);
  update();
}

void ClusterMapView::rebuild() {
  image_ = QImage();
  if (!labels_.empty()) {
    image_ = QImage(width_, height_, QImage::Format_RGB32);
    const int32_t* frame = labels_.data() + size_t(frame_) * height_ * width_;
    for (int y = 0; y < height_; ++y) {
      for (int x = 0; x < width_; ++x) image_.setPixel(x, y, cluster_colour(frame[y * width_ + x]).rgb());
    }
  }
  update();
}

// The largest rectangle of the grid's aspect ratio, centred; a grid far wider than high (or the
// reverse: 1×2048 tokens) is stretched to a strip of at least kMinStrip pixels, which its aspect
// ratio would have drawn less than one pixel high.
QRect ClusterMapView::gridArea() const {
  if (image_.isNull()) return rect();
  constexpr int kMinStrip = 12;
  QSize fitted = image_.size().scaled(size(), Qt::KeepAspectRatio);
  fitted = fitted.expandedTo(QSize(std::min(width(), kMinStrip), std::min(height(), kMinStrip)));
  return QRect(QPoint((width() - fitted.width()) / 2, (height() - fitted.height()) / 2), fitted);
}

void ClusterMapView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().window());
  if (image_.isNull()) {
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap,
               why_none_.isEmpty() ? tr("Clusters of the tokens of one frame") : why_none_);
    return;
  }
  const QRect area = gridArea();
  if (!underlay_.isNull()) {
    p.setRenderHint(QPainter::SmoothPixmapTransform, false);
    p.drawImage(area, underlay_);
  }
  p.setOpacity(underlay_.isNull() ? 1.0 : opacity_);
  p.drawImage(area, image_);
}

bool ClusterMapView::event(QEvent* event) {
  if (event->type() != QEvent::ToolTip) return QWidget::event(event);
  auto* help = static_cast<QHelpEvent*>(event);
  const QRect area = gridArea();
  if (image_.isNull() || !area.contains(help->pos())) {
    QToolTip::hideText();
    return true;
  }
  const int x = std::min(width_ - 1, (help->pos().x() - area.left()) * width_ / area.width());
  const int y = std::min(height_ - 1, (help->pos().y() - area.top()) * height_ / area.height());
  const size_t token = (size_t(frame_) * height_ + y) * width_ + x;
  const int32_t cluster = labels_[token];
  QToolTip::showText(help->globalPos(),
                     // Counted from 0, as the trace file counts them, which the preview's 1-based
                     // frame caption beside it does not: said. "cluster 61 of 5 tokens" read as a rank.
                     tr("token %1 (grid frame %2, row %3, column %4, counted from 0)\ncluster %5 (%6)")
                         .arg(token)
                         .arg(frame_)
                         .arg(y)
                         .arg(x)
                         .arg(cluster)
                         .arg(counted(cluster >= 0 && size_t(cluster) < sizes_.size() ? sizes_[cluster] : 0,
                                      tr("token"), tr("tokens"))),
                     this);
  return true;
}

}  // namespace svgear
