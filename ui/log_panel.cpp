#include "ui/log_panel.h"

#include <QDateTime>
#include <QScrollBar>

#include "ui/bidi_controls.h"

namespace svgear {

namespace {
constexpr int kMinimumColumns = 25;
}  // namespace

LogPanel::LogPanel(QWidget* parent) : QPlainTextEdit(parent) {
  setReadOnly(true);
  setMaximumBlockCount(5000);  // a long session must not grow the log without bound
  setLineWrapMode(QPlainTextEdit::WidgetWidth);
  // About 25 characters (less the frame and scroll bar): narrower, every line of the log wraps into a
  // column of words (a dock dragged nearly shut).
  setMinimumWidth(kMinimumColumns * fontMetrics().averageCharWidth());
  // A selection (Ctrl+A, a drag to the end) stays what was selected: new lines had been added inside
  // it, so a copy took lines the reader had not chosen.
  QTextCursor cursor = textCursor();
  cursor.setKeepPositionOnInsert(true);
  setTextCursor(cursor);
  QScrollBar* bar = verticalScrollBar();
  connect(bar, &QScrollBar::valueChanged, this, [this, bar](int value) {
    if (!pinning_) following_ = value >= bar->maximum();
  });
  connect(bar, &QScrollBar::rangeChanged, this, [this, bar](int, int maximum) {
    if (!following_ || bar->value() == maximum) return;
    pinning_ = true;
    bar->setValue(maximum);
    pinning_ = false;
  });
}

void LogPanel::info(const QString& line) { append(line, palette().color(QPalette::Text)); }

void LogPanel::warning(const QString& line) { append("warning: " + line, QColor(240, 190, 80)); }

void LogPanel::error(const QString& line) { append("error: " + line, QColor(255, 110, 100)); }

void LogPanel::append(const QString& line, const QColor& colour) {
  const QString time = QTime::currentTime().toString("HH:mm:ss");
  // pre-wrap: a message's own lines and indents (a list of mismatched tensors) had run together.
  appendHtml(QString("<span style='color:#808080'>%1</span> <span style='color:%2; white-space:pre-wrap'>%3</span>")
                 .arg(time, colour.name(), bidi_controls_shown(line).toHtmlEscaped()));
}

}  // namespace svgear
