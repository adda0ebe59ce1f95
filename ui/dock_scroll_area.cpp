#include "ui/dock_scroll_area.h"

#include <algorithm>

#include <QEvent>
#include <QScrollBar>

namespace svgear {

namespace {
// What the area asks for at the least, in text lines: enough to see that there is more to scroll to.
constexpr int kMinimumLines = 4;
}  // namespace

DockScrollArea::DockScrollArea(QWidget* content, Height height, QWidget* parent) : QScrollArea(parent) {
  setWidgetResizable(true);
  setFrameShape(QFrame::NoFrame);
  setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  // Without the grow flag a layout never makes the area taller than sizeHint(): the content's height.
  setSizePolicy(QSizePolicy::Preferred, height == Height::Grows ? QSizePolicy::Preferred : QSizePolicy::Maximum);
  setWidget(content);
}

// The content's whole height, unlike QScrollArea's, which stops at 24 lines.
QSize DockScrollArea::sizeHint() const {
  const int frame = 2 * frameWidth();
  const QSize content = widget()->sizeHint().expandedTo(widget()->minimumSizeHint());
  return {content.width() + verticalScrollBar()->sizeHint().width() + frame, content.height() + frame};
}

// The content's width with room for the scroll bar; a few lines' height.
QSize DockScrollArea::minimumSizeHint() const {
  const int frame = 2 * frameWidth();
  const QSize content = widget()->minimumSizeHint();
  const int lines = kMinimumLines * fontMetrics().height();
  return {content.width() + verticalScrollBar()->sizeHint().width() + frame, std::min(content.height(), lines) + frame};
}

bool DockScrollArea::eventFilter(QObject* watched, QEvent* event) {
  if (watched == widget() && event->type() == QEvent::LayoutRequest) updateGeometry();
  return QScrollArea::eventFilter(watched, event);
}

}  // namespace svgear
