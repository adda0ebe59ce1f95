#pragma once
// StatusLine: the main window's status bar. QStatusBar draws its message into the space left of
// the permanent widgets (the step line, the progress bar) and cuts it there mid-letter, without a
// sign; this one ends a message that does not fit in "…", at whatever width the window has now. An
// error shows its first sentence with the whole message as the bar's tooltip, and when cut, a note
// that the Log has all of it; any other message cut short is whole in the bar's tooltip.

#include <optional>

#include <QStatusBar>

namespace svgear {

class StatusLine : public QStatusBar {
  Q_OBJECT

 public:
  explicit StatusLine(QWidget* parent);
  // Shows `message` until the next one; the tooltip holds `detail` (broken into lines a screen
  // holds) meanwhile, and a cut message ends in "… (all of it in the Log)".
  void showDetailed(const QString& message, const QString& detail);
  // Shows `notice` (an answer to a key or click: "A run is in progress…") for `ms`, then the message
  // it covered ("Comparing…", an error with its tooltip) again, unless another came meanwhile. A
  // plain showMessage had left the notice up to the end of a long run.
  void showNotice(const QString& notice, int ms = 5000);
  // What the bar draws for the message now: itself, or its cut form.
  QString shownText() const;

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;  // the tooltip of a message cut short

 private:
  QRect messageRect() const;  // from the left edge to the first permanent widget or the size grip

  QString cut_note_;  // the shown message's, while it is shown
  int notices_ = 0;   // showNotice calls: a notice's timer restores only while it is the last one
  // What the notice up now covered: a second notice over the first keeps it (it had brought the
  // first notice back, for good).
  struct Covered {
    QString message, tooltip, cut_note;
  };
  std::optional<Covered> covered_;
  QString notice_;  // the last notice shown
};

}  // namespace svgear
