#include "ui/compare_view.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QPixmap>
#include <QSlider>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include "core/metrics/video_quality.h"
#include "ui/counted.h"
#include "ui/plot_hover_values.h"
#include "ui/plot_style.h"
#include "ui/speedup_text.h"
#include "ui/video_frame_image.h"

#include "ui/qcustomplot_include.h"

namespace svgear {
namespace {

const QColor kPsnr(240, 160, 48);
const QColor kSsim(90, 150, 230);

// The frame as the preview fits it: magnified by the largest whole factor that fits `room` (square
// pixels), or shrunk smoothly to fit when it is larger than `room` (a 480p Wan frame in a small dock),
// rather than cropped to its middle. In device pixels, with the pixmap told their ratio: at a
// fractional scale (1.5) the label had stretched a whole-factor pixmap smoothly, blurring the
// single-pixel differences the difference map is there to show.
QPixmap fitted(const QImage& frame, QSize room, double device_pixel_ratio) {
  if (frame.isNull()) return QPixmap();
  QPixmap out;
  if (room.isEmpty()) {  // not laid out yet: the views' resize shows it again
    out = QPixmap::fromImage(frame);
  } else {
    const QSize device_room = (QSizeF(room) * device_pixel_ratio).toSize();
    if (frame.width() > device_room.width() || frame.height() > device_room.height()) {
      out = QPixmap::fromImage(frame.scaled(device_room, Qt::KeepAspectRatio, Qt::SmoothTransformation));
    } else {
      const int scale = std::min(device_room.width() / frame.width(), device_room.height() / frame.height());
      out = QPixmap::fromImage(frame.scaled(frame.size() * scale, Qt::IgnoreAspectRatio, Qt::FastTransformation));
    }
  }
  out.setDevicePixelRatio(device_pixel_ratio);
  return out;
}

QLabel* titled_view(QGridLayout* grid, int column, QLabel* heading, const char* name) {
  heading->setAlignment(Qt::AlignCenter);
  auto* view = new QLabel;
  view->setObjectName(name);
  view->setAlignment(Qt::AlignCenter);
  view->setMinimumSize(64, 64);
  // The pixmap follows the label's size (eventFilter), never the other way round.
  view->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Ignored);
  grid->addWidget(heading, 0, column);
  grid->addWidget(view, 1, column);
  return view;
}

// The views grow for a small clip up to this magnification: 4× shows a 64-pixel clip's objects
// plainly, and more would take the preview's height for little.
constexpr int kMostWantedScale = 4;

QString seconds(double ms) { return QString::number(ms / 1000.0, 'f', 2) + " s"; }

// How much faster the sparse run was, from the dense and sparse times.
QString relative_speed(double dense_ms, double sparse_ms) {
  return sparse_ms > 0.0 ? relative_speed_text(dense_ms / sparse_ms) : QString("–");
}

// The PSNR axis of a result with no finite PSNR: the span of lossy video's usual range.
constexpr double kEmptyPsnrTopDb = 60.0;

}  // namespace

CompareView::CompareView(QWidget* parent)
    : QWidget(parent),
      sparse_heading_(new QLabel(tr("sparse"), this)),
      difference_scale_(new QLabel(this)),
      summary_(new QLabel(this)),
      speedup_(new QLabel(this)),
      play_(new QToolButton(this)),
      scrub_(new QSlider(Qt::Horizontal, this)),
      frame_label_(new QLabel(this)),
      timer_(new QTimer(this)),
      plot_(new QCustomPlot(this)),
      plot_cursor_(new QCPItemStraightLine(plot_)) {
  auto* views = new QGridLayout;
  dense_view_ = titled_view(views, 0, new QLabel(tr("dense"), this), "compare_dense");
  sparse_view_ = titled_view(views, 1, sparse_heading_, "compare_sparse");
  difference_view_ = titled_view(views, 2, new QLabel(tr("|dense − sparse|"), this), "compare_difference");
  // Each time the views change size, the panel's or not (a longer summary under them), their frames
  // are fitted again: left at the old size they were cropped.
  for (QLabel* view : {dense_view_, sparse_view_, difference_view_}) view->installEventFilter(this);
  views->setRowStretch(1, 1);
  dense_view_->setToolTip(tr("The dense run's frame: exact attention, as generated"));
  sparse_view_->setToolTip(tr("The sparse run's frame: the same request and seed, as generated"));
  const QString difference_tip = tr("Per pixel the largest |dense − sparse| of its three channels, from dark (none) "
                                    "to yellow (the largest in the whole clip, the number below)");
  difference_view_->setToolTip(difference_tip);
  difference_scale_->setToolTip(difference_tip);
  difference_scale_->setObjectName("compare_difference_scale");
  difference_scale_->setAlignment(Qt::AlignCenter);
  views->addWidget(difference_scale_, 2, 2);

  play_->setObjectName("compare_play");
  play_->setText(tr("Play"));
  play_->setCheckable(true);
  play_->setEnabled(false);  // until there is a Compare to play
  scrub_->setObjectName("compare_scrub");
  scrub_->setRange(0, 0);
  frame_label_->setObjectName("compare_frame");
  auto* playback = new QHBoxLayout;
  playback->addWidget(play_);
  playback->addWidget(scrub_, 1);
  playback->addWidget(frame_label_);

  summary_->setObjectName("compare_summary");
  speedup_->setObjectName("compare_speedup");
  summary_->setText(tr("Compare runs the request dense and sparse with the same seed (Generate ▸ Compare)."));
  summary_->setWordWrap(true);
  speedup_->setWordWrap(true);
  // Selectable, from the keyboard too: Tab reaches them (the panel scrolls to them on a short
  // screen, where nothing else would) and the figures can be copied.
  for (QLabel* figures : {summary_, speedup_}) {
    figures->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
  }

  plot_->setObjectName("compare_quality_plot");
  plot_->setToolTip(tr("PSNR (dB, left axis) and SSIM (right axis) of each sparse frame against the dense one; "
                       "an identical frame has no PSNR point. Click to show a frame."));
  show_values_on_hover(plot_);
  // A click moves the three views to the frame under it, as the slider does.
  connect(plot_, &QCustomPlot::mousePress, this, [this](QMouseEvent* event) {
    if (frameCount() == 0 || event->button() != Qt::LeftButton) return;
    const int frame = int(std::lround(plot_->xAxis->pixelToCoord(event->position().x()))) - 1;
    if (frame < 0 || frame >= frameCount()) return;
    play_->setChecked(false);  // the frame chosen stays, as the preview's frame keys leave it: it had flashed by
    scrub_->setValue(frame);
  });
  plot_->setMinimumSize(260, 160);
  plot_->setBackground(palette().window());
  plot_->axisRect()->setBackground(QColor(30, 30, 32));
  for (QCPAxis* axis : {plot_->xAxis, plot_->yAxis, plot_->yAxis2}) style_plot_axis(axis);
  plot_->xAxis->setLabel(tr("frame"));
  use_whole_ticks(plot_->xAxis);
  plot_->yAxis->setLabel(tr("PSNR (dB)"));
  plot_->yAxis2->setLabel(tr("SSIM"));
  use_ticks_up_to(plot_->yAxis2, 1.0);
  plot_->yAxis2->setVisible(true);
  plot_->yAxis2->grid()->setVisible(false);
  for (auto [axis, colour, name] :
       {std::tuple{plot_->yAxis, kPsnr, tr("PSNR")}, std::tuple{plot_->yAxis2, kSsim, tr("SSIM")}}) {
    QCPGraph* graph = plot_->addGraph(plot_->xAxis, axis);
    graph->setPen(QPen(colour, 2));
    graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, colour, colour, 6));
    graph->setName(name);
  }
  place_legend_above(plot_, 2);
  fit_vertical_axes_to_height(plot_);
  // Before a result: the ranges a result has (QCustomPlot's own 0–5 read as an SSIM up to 5).
  plot_->xAxis->setRange(0.5, 1.5);
  plot_->yAxis->setRange(0.0, kEmptyPsnrTopDb);
  plot_->yAxis2->setRange(0.0, 1.05);
  plot_cursor_->setPen(QPen(QColor(255, 255, 255, 110), 1, Qt::DashLine));
  plot_cursor_->setVisible(false);

  auto* left = new QVBoxLayout;
  left->addLayout(views);
  left->addLayout(playback);
  auto* top = new QHBoxLayout;
  top->addLayout(left, 3);
  top->addWidget(plot_, 2);
  // The figures under both, across the panel's whole width: beside the plot they had wrapped to
  // twice the lines, the height the views need (the sparse knobs made the summary longer).
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top, 1);
  layout->addWidget(summary_);
  layout->addWidget(speedup_);

  connect(play_, &QToolButton::toggled, this, [this](bool on) {
    play_->setText(on ? tr("Pause") : tr("Play"));
    if (on) {
      timer_->start(int(1000.0 / std::max(1.0, result_.dense ? result_.dense->fps : 16.0)));
    } else {
      timer_->stop();
    }
  });
  // Hidden (another tab of the dock in front), playback keeps its place but draws nothing: each
  // frame shown costs three scaled images on the GUI thread. showEvent catches up.
  connect(timer_, &QTimer::timeout, this, [this] {
    if (frameCount() > 0 && isVisible()) setCurrentFrame((current_ + 1) % frameCount());
  });
  connect(scrub_, &QSlider::valueChanged, this, [this](int index) { setCurrentFrame(index); });
  connect(scrub_, &QSlider::sliderPressed, this, [this] { play_->setChecked(false); });
}

void CompareView::showResult(const CompareResult& result, bool play) {
  result_ = result;
  dense_ = frame_images(result.dense);
  sparse_ = frame_images(result.sparse);
  difference_ = frame_images(result.difference);
  const int largest = result.largest_difference;
  current_ = 0;
  sparse_heading_->setText(QString::fromStdString(result.sparse_mode));
  scrub_->setRange(0, std::max(0, frameCount() - 1));
  scrub_->setValue(0);
  difference_scale_->setText(largest == 0 ? tr("no pixel differs")
                                          : tr("dark → yellow: |Δ| 0 → %1 of 255").arg(largest));
  const auto identical =
      std::count_if(result.psnr_db.begin(), result.psnr_db.end(), [](double db) { return std::isinf(db); });
  const int differing = int(result.psnr_db.size() - identical);
  const auto frames = [](long long n) { return counted(n, tr("frame"), tr("frames")); };
  // "inf (identical)" as the status bar and `svgear compare` say it; "inf dB" read as a unit's value.
  const QString sparse = QString::fromStdString(result.sparse_mode);
  result_summary_ = tr("%1 against dense, seed %2: PSNR %3, SSIM %4 (%5)%6")
                        .arg(result.sparse_settings.empty()
                                 ? sparse
                                 : tr("%1 (%2)").arg(sparse, QString::fromStdString(result.sparse_settings)))
                        .arg(result.seed)
                        .arg(QString::fromStdString(format_psnr_db(result.mean_psnr_db)))
                        .arg(result.mean_ssim, 0, 'f', 4)
                        .arg(frameCount() == 1 ? frames(1) : tr("mean of %1").arg(frames(frameCount())))
                        .arg(identical > 0 && differing > 0
                                 ? tr("; %1 identical, PSNR over the %2 that differ").arg(frames(identical)).arg(differing)
                                 : QString());
  summary_->setText(result_summary_);
  // A one-step run has no step after the first: its only step's time, one-time costs included.
  const QString per_step = result.steps == 1 ? tr("for the only step, one-time costs included")
                                             : tr("per denoising step after the first");
  speedup_->setText(tr("%1 %9 (dense %2 ms, %3 %4 ms); %5 in wall time, text encoding aside (%6 vs %7)%8")
                        .arg(relative_speed(result.dense_step_ms, result.sparse_step_ms))
                        .arg(result.dense_step_ms, 0, 'f', 1)
                        .arg(QString::fromStdString(result.sparse_mode))
                        .arg(result.sparse_step_ms, 0, 'f', 1)
                        .arg(relative_speed(result.dense_total_ms, result.sparse_total_ms))
                        .arg(seconds(result.dense_total_ms), seconds(result.sparse_total_ms))
                        // Its times are its own run's: under another load, the ratio is off by as much.
                        .arg(result.dense_reused ? tr("; dense run reused from the cache, its times measured when "
                                                      "it ran, not beside this run")
                                                 : QString())
                        .arg(per_step));
  plotQuality();
  showFrame();
  play_->setEnabled(true);
  play_->setChecked(play);
  resume_playing_ = false;
}

// The speedup line and the figures stay with the result shown until a new one replaces it: a run
// that fails or is cancelled before its result loses nothing.
void CompareView::showRunning(const QString& what) {
  if (play_->isChecked()) resume_playing_ = true;
  play_->setChecked(false);
  showMessage(what);
}

// A Compare that ends without a result (cancelled, failed) gives the kept one back its playback.
void CompareView::showEnded(const QString& message) {
  showMessage(message);
  if (resume_playing_ && hasResult()) play_->setChecked(true);
  resume_playing_ = false;
}

void CompareView::showMessage(const QString& message) {
  summary_->setText(hasResult() ? message + "\n" + tr("Shown: %1").arg(result_summary_) : message);
}

void CompareView::setCurrentFrame(int index) {
  if (index < 0 || index >= frameCount() || index == current_) return;
  current_ = index;
  showFrame();
}

bool CompareView::isPlaying() const { return timer_->isActive(); }

void CompareView::togglePlaying() {
  if (play_->isEnabled()) play_->toggle();
}

int CompareView::plottedFrames() const { return plot_->graph(0)->dataCount(); }

int CompareView::heightWanted() const {
  if (dense_.empty() || dense_.front().isNull()) return 0;
  const QSize frame = dense_.front().size();
  const int width = dense_view_->width();
  const int wanted = frame.width() <= width ? frame.height() * std::min(kMostWantedScale, width / frame.width())
                                            : frame.height() * width / frame.width();
  return std::max(0, wanted - dense_view_->height());
}

void CompareView::showFrame() {
  if (frameCount() == 0) return;
  const double dpr = devicePixelRatioF();
  dense_view_->setPixmap(fitted(dense_[current_], dense_view_->size(), dpr));
  sparse_view_->setPixmap(fitted(sparse_[current_], sparse_view_->size(), dpr));
  difference_view_->setPixmap(fitted(difference_[current_], difference_view_->size(), dpr));
  const QSignalBlocker quiet(scrub_);  // the slider follows playback without echoing back
  scrub_->setValue(current_);
  frame_label_->setText(tr("frame %1 / %2").arg(current_ + 1).arg(frameCount()));
  plot_cursor_->point1->setCoords(current_ + 1, 0.0);
  plot_cursor_->point2->setCoords(current_ + 1, 1.0);
  plot_cursor_->setVisible(true);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

bool CompareView::eventFilter(QObject* watched, QEvent* event) {
  // A layout resizes the three views one after the other: one fit once it is done, not three (a
  // shrinking grid resizes the dense view first, while the others still have their old sizes).
  if (event->type() == QEvent::Resize && !refit_queued_ &&
      (watched == dense_view_ || watched == sparse_view_ || watched == difference_view_)) {
    refit_queued_ = true;
    QMetaObject::invokeMethod(this, [this] {
      refit_queued_ = false;
      showFrame();
    }, Qt::QueuedConnection);
  }
  return QWidget::eventFilter(watched, event);
}

void CompareView::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  showFrame();
}

void CompareView::plotQuality() {
  QVector<double> frames;
  QVector<double> psnr;
  QVector<double> ssim;
  for (size_t f = 0; f < result_.psnr_db.size(); ++f) {
    frames << double(f + 1);  // counted from 1, as the preview and the frame label count
    // Identical frames have infinite PSNR; they are left out of the curve rather than drawn at +∞.
    psnr << (std::isinf(result_.psnr_db[f]) ? qQNaN() : result_.psnr_db[f]);
    ssim << result_.ssim[f];
  }
  plot_->graph(0)->setData(frames, psnr);
  plot_->graph(1)->setData(frames, ssim);
  plot_->xAxis->setRange(0.5, std::max(1.5, frames.size() + 0.5));
  // Every frame identical leaves the PSNR curve empty: the axis says why, over a fixed range,
  // instead of one QCustomPlot kept from the previous result.
  const bool any_psnr = std::any_of(psnr.begin(), psnr.end(), [](double db) { return !std::isnan(db); });
  plot_->yAxis->setLabel(any_psnr ? tr("PSNR (dB)") : tr("PSNR: every frame identical"));
  if (any_psnr) {
    plot_->graph(0)->rescaleValueAxis();
    plot_->yAxis->scaleRange(1.2);
  } else {
    plot_->yAxis->setRange(0.0, kEmptyPsnrTopDb);
  }
  // SSIM's axis spans its values (below 1 by half as much again), not 0–1: frames at 0.997 and
  // 0.999 had drawn one flat line at the top. Identical frames (every SSIM 1) get a span of 0.01.
  const double lowest_ssim = ssim.isEmpty() ? 1.0 : *std::min_element(ssim.begin(), ssim.end());
  const double below_one = std::max(1.0 - lowest_ssim, 0.005);
  plot_->yAxis2->setRange(lowest_ssim - 0.5 * below_one, 1.0 + 0.2 * below_one);
  plot_->replot();
}

}  // namespace svgear
