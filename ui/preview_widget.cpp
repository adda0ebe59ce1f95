#include "ui/preview_widget.h"

#include <algorithm>
#include <cmath>

#include <QPainter>

namespace svgear {

PreviewWidget::PreviewWidget(QWidget* parent) : QOpenGLWidget(parent) {
  setMinimumSize(160, 120);
  setFocusPolicy(Qt::ClickFocus);
}

void PreviewWidget::setClip(const Video& video) {
  frames_.clear();
  frames_.reserve(video.frames);
  for (int f = 0; f < video.frames; ++f) {
    // copy(): the QImage must own its pixels; the Video may go away after this call.
    frames_.push_back(QImage(video.frame(f), video.width, video.height, video.width * 3,
                             QImage::Format_RGB888).copy());
  }
  fps_ = video.fps > 0 ? video.fps : 16.0;
  if (current_ >= frameCount()) current_ = 0;
  update();
}

void PreviewWidget::clear() {
  frames_.clear();
  current_ = 0;
  caption_.clear();
  update();
}

QSize PreviewWidget::frameSize() const { return frames_.empty() ? QSize() : frames_.front().size(); }

void PreviewWidget::setCurrentFrame(int index) {
  if (frames_.empty()) return;
  current_ = std::clamp(index, 0, frameCount() - 1);
  update();
}

void PreviewWidget::setZoom(double zoom) {
  zoom_ = zoom;
  update();
}

void PreviewWidget::setCaption(const QString& caption) {
  caption_ = caption;
  update();
}

QRectF PreviewWidget::targetRect(QSize image) const {
  // Scales are chosen in device pixels so model pixels stay square and sharp on high-DPI screens.
  const double dpr = devicePixelRatioF();
  double scale = zoom_;
  if (scale <= 0.0) {
    const double fit = std::min(width() * dpr / image.width(), height() * dpr / image.height());
    scale = fit >= 1.0 ? std::floor(fit) : fit;
  }
  const QSizeF size(image.width() * scale / dpr, image.height() * scale / dpr);
  return QRectF(QPointF((width() - size.width()) / 2, (height() - size.height()) / 2), size);
}

void PreviewWidget::paintGL() {
  QPainter painter(this);
  painter.fillRect(rect(), QColor(18, 18, 19));
  if (frames_.empty()) {
    painter.setPen(QColor(140, 140, 140));
    painter.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap,
                     tr("No video yet.\nChoose a model, type a prompt and press Generate (Ctrl+Enter)."));
    return;
  }
  const QImage& image = frames_[current_];
  const QRectF target = targetRect(image.size());
  // Nearest-neighbour when magnifying: the model's pixels are the data, not something to blur.
  painter.setRenderHint(QPainter::SmoothPixmapTransform, target.width() * devicePixelRatioF() < image.width());
  painter.drawImage(target, image);
  if (!caption_.isEmpty()) {
    const QString text = caption_ + QString("   frame %1/%2").arg(current_ + 1).arg(frameCount());
    const QRect box = painter.fontMetrics().boundingRect(text).adjusted(-6, -3, 6, 3);
    const QRect placed = box.translated(8 - box.left(), height() - 8 - box.bottom());
    painter.fillRect(placed, QColor(0, 0, 0, 170));
    painter.setPen(QColor(230, 230, 230));
    painter.drawText(placed, Qt::AlignCenter, text);
  }
}

}  // namespace svgear
