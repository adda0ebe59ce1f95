#pragma once
// PreviewPane: the preview view plus its transport — play / pause, a scrub slider, loop and zoom.
// Playback runs from a QTimer at the clip's frame rate; a new clip (one per sampling step while
// generating) replaces the frames without restarting playback.

#include <QString>
#include <QWidget>

#include "core/media/video.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;
class QTimer;
class QToolButton;

namespace svgear {

class PreviewWidget;

class PreviewPane : public QWidget {
  Q_OBJECT

 public:
  explicit PreviewPane(QWidget* parent);

  void showClip(const SharedVideo& video, const QString& caption);
  // No clip: the view says `notice` in its place, or how to make one when it is empty.
  void clear(const QString& notice = QString());
  void setPlaying(bool playing);
  bool isPlaying() const;
  void togglePlaying() { setPlaying(!isPlaying()); }
  PreviewWidget* view() const { return view_; }
  // Moves to frame `index` (from 0), as the scrub bar does.
  void showFrame(int index);

 Q_SIGNALS:
  // Playback, the artist or a new clip of fewer frames moved to another frame.
  void frameShown(int index);

 private:
  void advance();
  void syncControls();

  PreviewWidget* view_;
  QToolButton* play_;
  QSlider* scrub_;
  QCheckBox* loop_;
  QComboBox* zoom_;
  QLabel* frame_label_;
  QTimer* timer_;
};

}  // namespace svgear
