#pragma once
// PreviewWidget: draws one frame of a clip on an OpenGL surface. It holds the clip as QImages
// (copied from a Video) and knows nothing about models or playback; PreviewPane drives it.

#include <vector>

#include <QImage>
#include <QOpenGLWidget>
#include <QString>

#include "core/media/video.h"

namespace svgear {

class PreviewWidget : public QOpenGLWidget {
  Q_OBJECT

 public:
  explicit PreviewWidget(QWidget* parent);

  // Copies the frames. The current frame index is kept when the new clip has it, so a clip that
  // is replaced after every sampling step keeps playing smoothly.
  void setClip(const Video& video);
  void clear();
  int frameCount() const { return int(frames_.size()); }
  QSize frameSize() const;
  const QImage& frame(int index) const { return frames_.at(index); }
  double fps() const { return fps_; }

  int currentFrame() const { return current_; }
  void setCurrentFrame(int index);
  // Magnification of the video in device pixels per video pixel; 0 fits the widget.
  void setZoom(double zoom);
  double zoom() const { return zoom_; }
  // One line drawn over the bottom-left corner ("estimate after step 3/20", "final").
  void setCaption(const QString& caption);
  const QString& caption() const { return caption_; }

 protected:
  void paintGL() override;

 private:
  QRectF targetRect(QSize image) const;

  std::vector<QImage> frames_;
  double fps_ = 16.0;
  int current_ = 0;
  double zoom_ = 0.0;
  QString caption_;
};

}  // namespace svgear
