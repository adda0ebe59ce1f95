#pragma once
// CompareView: the result of a Compare — the dense and the sparse video side by side with their
// per-pixel difference, all three playing in step (one frame index, one slider), PSNR and SSIM per
// frame in a plot, and the measured speedup.

#include <vector>

#include <QImage>
#include <QWidget>

#include "ui/compare_result.h"

class QCPItemStraightLine;
class QCustomPlot;
class QLabel;
class QSlider;
class QTimer;
class QToolButton;

namespace svgear {

class CompareView : public QWidget {
  Q_OBJECT

 public:
  explicit CompareView(QWidget* parent);

  void showResult(const CompareResult& result, bool play = true);
  // While a Compare runs: which run, in words ("dense run 1 of 2").
  void showRunning(const QString& what);  // pauses playback while the run computes
  void showEnded(const QString& message);  // no result after all: playback as it was
  void showMessage(const QString& message);

  bool hasResult() const { return !dense_.empty(); }
  const CompareResult& result() const { return result_; }
  // The frames as drawn, at video size (the difference in the colour map).
  const QImage& denseFrame(int index) const { return dense_.at(index); }
  const QImage& sparseFrame(int index) const { return sparse_.at(index); }
  const QImage& differenceFrame(int index) const { return difference_.at(index); }
  int frameCount() const { return int(dense_.size()); }
  int currentFrame() const { return current_; }
  void setCurrentFrame(int index);
  bool isPlaying() const;
  void togglePlaying();
  int plottedFrames() const;  // points of the PSNR curve
  // How much taller the views would have to be to show the frames at the magnification their width
  // allows (whole factors up to 4, or shrunk to the width), or 0: in a short, wide panel a
  // 64-pixel clip showed at 1×.
  int heightWanted() const;

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;
  void showEvent(QShowEvent* event) override;

 private:
  void showFrame();
  void plotQuality();

  QLabel* sparse_heading_;  // names the sparse mode once a result is shown
  QLabel* dense_view_;
  QLabel* sparse_view_;
  QLabel* difference_view_;
  QLabel* difference_scale_;
  QLabel* summary_;
  QString result_summary_;  // the shown result's figures, kept beside a later run's status
  QLabel* speedup_;
  QToolButton* play_;
  QSlider* scrub_;
  QLabel* frame_label_;  // "frame 3 / 8", counted from 1 as the preview's caption counts
  QTimer* timer_;
  QCustomPlot* plot_;
  QCPItemStraightLine* plot_cursor_;  // the frame shown, on the quality plot

  CompareResult result_;
  std::vector<QImage> dense_;
  std::vector<QImage> sparse_;
  std::vector<QImage> difference_;
  int current_ = 0;
  bool refit_queued_ = false;  // a fit of the frames to the views' new sizes is posted
  bool resume_playing_ = false;  // showRunning paused playback
};

}  // namespace svgear
