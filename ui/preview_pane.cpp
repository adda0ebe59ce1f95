#include "ui/preview_pane.h"

#include <algorithm>

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSettings>
#include <QSignalBlocker>
#include <QSlider>
#include <QStyle>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include "ui/preview_widget.h"

namespace svgear {

PreviewPane::PreviewPane(QWidget* parent)
    : QWidget(parent),
      view_(new PreviewWidget(this)),
      play_(new QToolButton(this)),
      scrub_(new QSlider(Qt::Horizontal, this)),
      loop_(new QCheckBox(tr("Loop"), this)),
      zoom_(new QComboBox(this)),
      frame_label_(new QLabel(this)),
      timer_(new QTimer(this)) {
  play_->setObjectName("play");
  play_->setToolTip(tr("Play / pause (Space)"));
  play_->setCheckable(true);
  scrub_->setObjectName("scrub");
  scrub_->setToolTip(tr("Scrub through the frames"));
  // The row's other controls keep their size: without a minimum a narrow preview left only the handle.
  scrub_->setMinimumWidth(fontMetrics().horizontalAdvance(QString(8, QChar('0'))));
  loop_->setObjectName("loop");
  loop_->setChecked(true);
  zoom_->setObjectName("zoom");
  zoom_->setToolTip(tr("Magnification in screen pixels per video pixel"));
  zoom_->addItem(tr("Fit"), 0.0);
  for (int z : {1, 2, 4, 8, 16}) zoom_->addItem(QString("%1×").arg(z), double(z));
  frame_label_->setMinimumWidth(frame_label_->fontMetrics().horizontalAdvance("000 / 000"));

  auto* controls = new QHBoxLayout;
  controls->addWidget(play_);
  controls->addWidget(scrub_, 1);
  controls->addWidget(frame_label_);
  controls->addWidget(loop_);
  controls->addWidget(new QLabel(tr("Zoom"), this));
  controls->addWidget(zoom_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(view_, 1);
  layout->addLayout(controls);

  connect(play_, &QToolButton::toggled, this, [this](bool on) { setPlaying(on); });
  connect(scrub_, &QSlider::valueChanged, this, [this](int v) { showFrame(v); });
  connect(zoom_, &QComboBox::currentIndexChanged, this,
          [this] { view_->setZoom(zoom_->currentData().toDouble()); });
  connect(timer_, &QTimer::timeout, this, [this] { advance(); });

  const auto frame_action = [this](const QString& text, Qt::Key key, const char* name, auto frame) {
    auto* action = new QAction(text, this);
    action->setObjectName(name);
    action->setShortcut(key);
    // The view's keys only: the scrub bar, the zoom box and every other control keep their own.
    action->setShortcutContext(Qt::WidgetShortcut);
    view_->addAction(action);
    connect(action, &QAction::triggered, this, [this, frame] {
      setPlaying(false);
      showFrame(frame(view_->currentFrame(), view_->frameCount()));
    });
    frame_actions_.push_back(action);
  };
  frame_action(tr("P&revious frame"), Qt::Key_Left, "previous_frame", [](int at, int) { return at - 1; });
  frame_action(tr("&Next frame"), Qt::Key_Right, "next_frame", [](int at, int) { return at + 1; });
  frame_action(tr("&First frame"), Qt::Key_Home, "first_frame", [](int, int) { return 0; });
  frame_action(tr("&Last frame"), Qt::Key_End, "last_frame", [](int, int count) { return count - 1; });
  syncControls();
}

void PreviewPane::save(QSettings& settings) const {
  settings.setValue("preview/loop", loop_->isChecked());
  settings.setValue("preview/zoom", zoom_->currentData().toDouble());  // the value: the list may change
}

void PreviewPane::restore(const QSettings& settings) {
  loop_->setChecked(settings.value("preview/loop", true).toBool());
  zoom_->setCurrentIndex(std::max(0, zoom_->findData(settings.value("preview/zoom", 0.0).toDouble())));
}

void PreviewPane::showClip(const SharedVideo& video, const QString& caption, Clip clip) {
  // Another video had kept the last one's pause, frame and pan: at 16× a clip could look empty.
  const bool another = clip == Clip::Another || view_->frameCount() == 0;
  const int before = view_->currentFrame();
  view_->setClip(video);
  view_->setCaption(caption);
  if (another) {
    view_->setCurrentFrame(0);
    view_->centre();
  }
  // At most 200 frames a second: a file whose header claims 30000 would repaint without pause.
  timer_->setInterval(std::max(5, int(1000.0 / view_->fps())));
  if (another) setPlaying(view_->frameCount() > 1);
  syncControls();
  if (view_->currentFrame() != before) Q_EMIT frameShown(view_->currentFrame());  // a shorter clip moved it
}

void PreviewPane::clear(const QString& notice) {
  setPlaying(false);
  view_->clear(notice);
  syncControls();
}

void PreviewPane::setPlaying(bool playing) {
  playing = playing && view_->frameCount() > 1;
  if (playing) {
    // Play from the start when the last run stopped at the end.
    if (!loop_->isChecked() && view_->currentFrame() == view_->frameCount() - 1) showFrame(0);
    timer_->start();
  } else {
    timer_->stop();
  }
  syncControls();
}

bool PreviewPane::isPlaying() const { return timer_->isActive(); }

void PreviewPane::advance() {
  const int next = view_->currentFrame() + 1;
  if (next < view_->frameCount()) {
    showFrame(next);
  } else if (loop_->isChecked()) {
    showFrame(0);
  } else {
    setPlaying(false);
  }
}

void PreviewPane::showFrame(int index) {
  const int before = view_->currentFrame();
  view_->setCurrentFrame(index);
  syncControls();
  if (view_->currentFrame() != before) Q_EMIT frameShown(view_->currentFrame());
}

void PreviewPane::syncControls() {
  const QSignalBlocker block_play(play_);
  const QSignalBlocker block_scrub(scrub_);
  const int count = view_->frameCount();
  play_->setChecked(isPlaying());
  play_->setIcon(style()->standardIcon(isPlaying() ? QStyle::SP_MediaPause : QStyle::SP_MediaPlay));
  play_->setEnabled(count > 1);
  for (QAction* action : frame_actions_) action->setEnabled(count > 1);
  scrub_->setEnabled(count > 1);
  scrub_->setRange(0, std::max(0, count - 1));
  scrub_->setValue(view_->currentFrame());
  frame_label_->setText(count ? QString("%1 / %2").arg(view_->currentFrame() + 1).arg(count) : QString("– / –"));
}

}  // namespace svgear
