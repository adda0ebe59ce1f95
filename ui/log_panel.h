#pragma once
// LogPanel: the studio's log — what the worker reports, what the user did, and every error in
// full (the status bar shows only a short version). It keeps its newest line in view until the user
// scrolls up, and again once they scroll back to the end.

#include <QPlainTextEdit>

namespace svgear {

class LogPanel : public QPlainTextEdit {
  Q_OBJECT

 public:
  explicit LogPanel(QWidget* parent);
  void info(const QString& line);
  void warning(const QString& line);  // something the user should act on, short of an error
  void error(const QString& line);

 private:
  void append(const QString& line, const QColor& colour);

  // QPlainTextEdit follows new text only while its last block ends inside the viewport as it
  // appends: a block taller than a narrow panel, or lines that came while it was hidden and were
  // laid out (wrapped) only when shown, left it behind for good. So the user's choice is kept
  // here, and the end re-pinned whenever the scroll range grows.
  bool following_ = true;
  bool pinning_ = false;  // our own scroll to the end, not the user's
};

}  // namespace svgear
