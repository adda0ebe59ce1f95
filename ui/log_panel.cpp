#include "ui/log_panel.h"

#include <QDateTime>
#include <QScrollBar>

namespace svgear {

namespace {
constexpr int kMinimumColumns = 30;

// Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) in a prompt or a
// file name reorder the rest of its line ("a\u202Eb" showed the line's end backwards): shown as
// their codes instead.
QString bidi_controls_shown(const QString& line) {
  QString shown;
  shown.reserve(line.size());
  for (const QChar c : line) {
    const char16_t u = c.unicode();
    if ((u >= 0x202A && u <= 0x202E) || (u >= 0x2066 && u <= 0x2069)) {
      shown += QString("[U+%1]").arg(QString::number(u, 16).toUpper());
    } else {
      shown += c;
    }
  }
  return shown;
}
}  // namespace

LogPanel::LogPanel(QWidget* parent) : QPlainTextEdit(parent) {
  setReadOnly(true);
  setMaximumBlockCount(5000);  // a long session must not grow the log without bound
  setLineWrapMode(QPlainTextEdit::WidgetWidth);
  // About 30 characters (less the frame and scroll bar): narrower, every line of the log wraps into a
  // column of words (a dock dragged nearly shut).
  setMinimumWidth(kMinimumColumns * fontMetrics().averageCharWidth());
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
  appendHtml(QString("<span style='color:#808080'>%1</span> <span style='color:%2'>%3</span>")
                 .arg(time, colour.name(), bidi_controls_shown(line).toHtmlEscaped()));
}

}  // namespace svgear
