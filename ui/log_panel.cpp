#include "ui/log_panel.h"

#include <QDateTime>
#include <QScrollBar>
#include <QTextCursor>

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
  const QString html =
      QString("<span style='color:#808080'>%1</span> <span style='color:%2; white-space:pre-wrap'>%3</span>")
          .arg(time, colour.name(), bidi_controls_shown(line).toHtmlEscaped());
  // A selection reaching the end (Ctrl+A, a drag down to the last line) took in each line added, so
  // a copy held lines the reader had not chosen: it is put back as it was. Its ends are held by
  // cursors of their own, which the document moves when the block limit drops lines from the top,
  // and which stay before text inserted where they are.
  const QTextCursor before = textCursor();
  if (!before.hasSelection() || before.selectionEnd() < document()->characterCount() - 1) {
    appendHtml(html);
    return;
  }
  const auto held_at = [this](int position) {
    QTextCursor end(document());
    end.setPosition(position);
    end.setKeepPositionOnInsert(true);
    return end;
  };
  const QTextCursor anchor = held_at(before.anchor()), position = held_at(before.position());
  appendHtml(html);
  QTextCursor kept = textCursor();
  kept.setPosition(anchor.position());
  kept.setPosition(position.position(), QTextCursor::KeepAnchor);
  // Setting the cursor scrolls it into view: the view stays where it was, following or not.
  QScrollBar* bar = verticalScrollBar();
  const int value = bar->value();
  pinning_ = true;
  setTextCursor(kept);
  bar->setValue(value);
  pinning_ = false;
}

}  // namespace svgear
