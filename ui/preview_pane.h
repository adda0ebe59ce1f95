#pragma once
// PreviewPane: the preview view plus its transport — play / pause, a scrub slider, loop and zoom.
// Playback runs from a QTimer at the clip's frame rate. The next estimate of the run on show (one
// per sampling step while generating, its final clip) replaces the frames and keeps the frame,
// playback and view the artist chose; another video starts playing from its first frame, centred.

#include <QList>
#include <QString>
#include <QWidget>

#include "core/media/video.h"

class QAction;
class QCheckBox;
class QComboBox;
class QLabel;
class QSettings;
class QSlider;
class QTimer;
class QToolButton;

namespace svgear {

class PreviewWidget;

class PreviewPane : public QWidget {
  Q_OBJECT

 public:
  explicit PreviewPane(QWidget* parent);

  enum class Clip { NextOfTheRun, Another };
  void showClip(const SharedVideo& video, const QString& caption, Clip clip);
  // No clip: the view says `notice` in its place, or how to make one when it is empty.
  void clear(const QString& notice = QString());
  void setPlaying(bool playing);
  bool isPlaying() const;
  void togglePlaying() { setPlaying(!isPlaying()); }
  PreviewWidget* view() const { return view_; }
  // Moves to frame `index` (from 0), as the scrub bar does.
  void showFrame(int index);
  // Previous, next, first and last frame (Left, Right, Home, End while the view has the focus, as in
  // players; each pauses), for the Preview menu.
  const QList<QAction*>& frameActions() const { return frame_actions_; }
  // Loop and zoom, the viewer's choices.
  void save(QSettings& settings) const;
  void restore(const QSettings& settings);

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
  QList<QAction*> frame_actions_;
};

}  // namespace svgear
