#include "ui/dock_scroll_area.h"

#include <algorithm>

#include <QAbstractSpinBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QEvent>
#include <QScrollBar>

namespace svgear {

namespace {
// What the area asks for at the least, in text lines: enough to see that there is more to scroll to.
constexpr int kMinimumLines = 4;

// The boxes a wheel would change.
bool is_box(const QObject* o) { return qobject_cast<const QAbstractSpinBox*>(o) || qobject_cast<const QComboBox*>(o); }
}  // namespace

DockScrollArea::DockScrollArea(QWidget* content, Height height, QWidget* parent) : QScrollArea(parent) {
  setWidgetResizable(true);
  setFrameShape(QFrame::NoFrame);
  setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  // No Tab stop of its own, which draws no focus (three such stops had looked like a lost Tab): a
  // control tabbed to is scrolled into view, so text to be read below the last control takes the
  // focus itself (the Compare panel's figures).
  setFocusPolicy(Qt::NoFocus);
  // Without the grow flag a layout never makes the area taller than sizeHint(): the content's height.
  setSizePolicy(QSizePolicy::Preferred, height == Height::Grows ? QSizePolicy::Preferred : QSizePolicy::Maximum);
  setWidget(content);
  for (QWidget* box : content->findChildren<QWidget*>()) {
    if (!is_box(box)) continue;
    box->setFocusPolicy(Qt::StrongFocus);  // the wheel no longer gives them the focus
    box->installEventFilter(this);
  }
}

// The content's whole height, unlike QScrollArea's, which stops at 24 lines.
QSize DockScrollArea::sizeHint() const {
  const int frame = 2 * frameWidth();
  const QSize content = widget()->sizeHint().expandedTo(widget()->minimumSizeHint()).expandedTo(widget()->minimumSize());
  return {content.width() + verticalScrollBar()->sizeHint().width() + frame, content.height() + frame};
}

// The content's width with room for the scroll bar; a few lines' height. The content's own minimum
// counts too: a panel may hold the width of rows it hides (the Model panel's folded boxes).
QSize DockScrollArea::minimumSizeHint() const {
  const int frame = 2 * frameWidth();
  const QSize content = widget()->minimumSizeHint().expandedTo(widget()->minimumSize());
  const int lines = kMinimumLines * fontMetrics().height();
  return {content.width() + verticalScrollBar()->sizeHint().width() + frame, std::min(content.height(), lines) + frame};
}

bool DockScrollArea::eventFilter(QObject* watched, QEvent* event) {
  if (watched == widget() && event->type() == QEvent::LayoutRequest) updateGeometry();
  // Boxes only: the scroll bars' events come here too, and the viewport passes its wheel to them.
  if (event->type() == QEvent::Wheel && is_box(watched) && !static_cast<QWidget*>(watched)->hasFocus()) {
    QCoreApplication::sendEvent(viewport(), event);  // the panel scrolls; the box never sees it
    return true;
  }
  return QScrollArea::eventFilter(watched, event);
}

}  // namespace svgear
