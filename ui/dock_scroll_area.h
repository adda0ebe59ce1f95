#pragma once
// A side panel's scroll area: on a screen too short for the panel (a 1366×768 laptop) it scrolls,
// rather than the window growing taller than the screen; it never scrolls sideways, so the panel
// keeps the width its rows need however the docks were dragged. The wheel over a spin box or combo
// box scrolls the panel unless that box has the focus (clicked or tabbed to): scrolling down to a
// knob must not change the seed or the steps it passes over.

#include <QScrollArea>

namespace svgear {

class DockScrollArea : public QScrollArea {
 public:
  enum class Height {
    Grows,          // takes what the dock area gives it (the Settings panel)
    AtMostContent,  // never taller than the content (the Model panel: the history beneath it takes the rest)
  };
  // Owns `content`. The wheel rule holds for the boxes `content` has by then (the panels make all
  // theirs in their constructors); a box added later would take the wheel as Qt's boxes do.
  DockScrollArea(QWidget* content, Height height, QWidget* parent);

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 protected:
  // setWidget() made the area the content's event filter: a change of the content's rows (a longer
  // model summary, a group shown) changes both hints. The boxes' wheel events come here too.
  bool eventFilter(QObject* watched, QEvent* event) override;
};

}  // namespace svgear
