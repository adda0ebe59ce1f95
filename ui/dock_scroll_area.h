#pragma once
// A side panel's scroll area: on a screen too short for the panel (a 1366×768 laptop) it scrolls,
// rather than the window growing taller than the screen; it never scrolls sideways, so the panel
// keeps the width its rows need however the docks were dragged.

#include <QScrollArea>

namespace svgear {

class DockScrollArea : public QScrollArea {
 public:
  // Owns `content`. With `grows` false the area is never taller than the content (the Model panel,
  // whose spare height belongs to the Prompt panel's history beneath it).
  DockScrollArea(QWidget* content, bool grows, QWidget* parent);

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;
};

}  // namespace svgear
