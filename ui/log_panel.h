#pragma once
// LogPanel: the studio's log — what the worker reports, what the user did, and every error in
// full (the status bar shows only a short version).

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
};

}  // namespace svgear
