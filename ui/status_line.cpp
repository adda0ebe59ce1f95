#include "ui/status_line.h"

#include <algorithm>
#include <utility>

#include <QFontMetrics>
#include <QHelpEvent>
#include <QPainter>
#include <QSizeGrip>
#include <QStyleOption>
#include <QTimer>
#include <QToolTip>

#include "ui/bidi_controls.h"
#include "ui/tooltip_lines.h"

namespace svgear {

StatusLine::StatusLine(QWidget* parent) : QStatusBar(parent) {
  // showMessage() emits this before showDetailed() sets the new message's note and tooltip.
  connect(this, &QStatusBar::messageChanged, this, [this] {
    cut_note_.clear();
    setToolTip(QString());
  });
}

void StatusLine::showDetailed(const QString& message, const QString& detail) {
  showMessage(message);
  cut_note_ = tr(" (all of it in the Log)");
  setToolTip(tooltip_lines(bidi_controls_shown(detail)));
  update();
}

void StatusLine::showNotice(const QString& notice, int ms) {
  if (!covered_ || currentMessage() != notice_) covered_ = Covered{currentMessage(), toolTip(), cut_note_};
  notice_ = notice;
  showMessage(notice);
  const int number = ++notices_;
  QTimer::singleShot(ms, this, [this, notice, number] {
    if (number != notices_) return;  // a later notice brings the message back
    const Covered covered = *std::exchange(covered_, std::nullopt);
    if (currentMessage() != notice) return;  // another message came meanwhile: it stays
    showMessage(covered.message);
    cut_note_ = covered.cut_note;
    setToolTip(covered.tooltip);
    update();
  });
}

QRect StatusLine::messageRect() const {
  int right = width() - 12;
  for (const QWidget* child : findChildren<QWidget*>(QString(), Qt::FindDirectChildrenOnly)) {
    if (child->isVisible()) right = std::min(right, child->x() - 8);
  }
  return QRect(6, 0, std::max(0, right - 6), height());
}

QString StatusLine::shownText() const {
  const QString message = bidi_controls_shown(currentMessage());  // a file name's override reversed the line
  const QFontMetrics metrics(font());
  const int room = messageRect().width();
  if (metrics.horizontalAdvance(message) <= room) return message;
  return metrics.elidedText(message, Qt::ElideRight, std::max(0, room - metrics.horizontalAdvance(cut_note_))) +
         cut_note_;
}

bool StatusLine::event(QEvent* event) {
  // An error's tooltip is its detail (showDetailed); a plain message cut short ("Reloaded … (seed
  // 42, locked): Gener…") shows whole, over the message's part of the bar.
  if (event->type() == QEvent::ToolTip && toolTip().isEmpty()) {
    const auto* help = static_cast<QHelpEvent*>(event);
    const QString message = bidi_controls_shown(currentMessage());
    if (messageRect().contains(help->pos()) && shownText() != message) {
      QToolTip::showText(help->globalPos(), tooltip_lines(message), this, messageRect());
    } else {
      QToolTip::hideText();
    }
    return true;
  }
  return QStatusBar::event(event);
}

// QStatusBar's own painting, with the message cut to its room.
void StatusLine::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  QStyleOption panel;
  panel.initFrom(this);
  style()->drawPrimitive(QStyle::PE_PanelStatusBar, &panel, &painter, this);
  for (QWidget* child : findChildren<QWidget*>(QString(), Qt::FindDirectChildrenOnly)) {
    if (!child->isVisible() || qobject_cast<QSizeGrip*>(child)) continue;
    QStyleOption frame;
    frame.rect = child->geometry().adjusted(-2, -1, 2, 1);
    frame.palette = palette();
    style()->drawPrimitive(QStyle::PE_FrameStatusBarItem, &frame, &painter, child);
  }
  if (currentMessage().isEmpty()) return;
  painter.setPen(palette().windowText().color());
  painter.drawText(messageRect(), Qt::AlignLeading | Qt::AlignVCenter | Qt::TextSingleLine, shownText());
}

}  // namespace svgear
