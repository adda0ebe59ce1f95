#include "ui/dark_theme.h"

#include <QAbstractScrollArea>
#include <QApplication>
#include <QPainter>
#include <QPalette>
#include <QProxyStyle>
#include <QStyleFactory>
#include <QStyleOption>
#include <QToolTip>

namespace svgear {
namespace {

// Fusion on this palette, with two things made visible that it leaves near black on near black:
// - an unticked check box ("latest", "Lock", "Audit"): a lighter frame is drawn over Fusion's own;
// - which list or text pane has the keyboard (the Log, History, the Library's list): Fusion outlines
//   a focused line edit or spin box in the highlight colour and a scroll area not at all, so Tab
//   seemed to vanish there. Combo boxes' drop-down lists, which have the keyboard while open, stay as
//   they are.
class DarkFusionStyle : public QProxyStyle {
 public:
  using QProxyStyle::QProxyStyle;

  void drawPrimitive(PrimitiveElement element, const QStyleOption* option, QPainter* painter,
                     const QWidget* widget) const override {
    QProxyStyle::drawPrimitive(element, option, painter, widget);
    const bool enabled = option->state & State_Enabled;
    QColor outline;
    if (element == PE_IndicatorCheckBox) {
      outline = enabled ? QColor(135, 135, 140) : QColor(80, 80, 84);
    } else if (element == PE_Frame && (option->state & State_HasFocus) && enabled &&
               qobject_cast<const QAbstractScrollArea*>(widget) && widget->window()->windowType() != Qt::Popup) {
      outline = option->palette.color(QPalette::Highlight);
    } else {
      return;
    }
    painter->save();
    painter->setPen(outline);
    painter->setBrush(Qt::NoBrush);
    painter->drawRect(option->rect.adjusted(0, 0, -1, -1));
    painter->restore();
  }
};

}  // namespace

void apply_dark_theme() {
  QApplication::setStyle(new DarkFusionStyle(QStyleFactory::create("Fusion")));
  const QColor text(220, 220, 220);
  const QColor disabled_text(120, 120, 120);
  QPalette dark;
  dark.setColor(QPalette::Window, QColor(37, 37, 38));
  dark.setColor(QPalette::WindowText, text);
  dark.setColor(QPalette::Base, QColor(30, 30, 30));
  dark.setColor(QPalette::AlternateBase, QColor(45, 45, 48));
  dark.setColor(QPalette::ToolTipBase, QColor(50, 50, 52));
  dark.setColor(QPalette::ToolTipText, text);
  dark.setColor(QPalette::PlaceholderText, disabled_text);
  dark.setColor(QPalette::Text, text);
  dark.setColor(QPalette::Button, QColor(45, 45, 48));
  dark.setColor(QPalette::ButtonText, text);
  dark.setColor(QPalette::BrightText, QColor(255, 90, 90));
  dark.setColor(QPalette::Link, QColor(80, 160, 255));
  dark.setColor(QPalette::Highlight, QColor(0, 122, 204));
  dark.setColor(QPalette::HighlightedText, Qt::white);
  dark.setColor(QPalette::Light, QColor(60, 60, 62));
  dark.setColor(QPalette::Midlight, QColor(52, 52, 54));
  dark.setColor(QPalette::Mid, QColor(40, 40, 42));
  dark.setColor(QPalette::Dark, QColor(25, 25, 26));
  dark.setColor(QPalette::Shadow, QColor(15, 15, 15));
  for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText}) {
    dark.setColor(QPalette::Disabled, role, disabled_text);
  }
  dark.setColor(QPalette::Disabled, QPalette::Base, QColor(37, 37, 38));
  dark.setColor(QPalette::Disabled, QPalette::Button, QColor(40, 40, 42));
  dark.setColor(QPalette::Disabled, QPalette::Highlight, QColor(70, 70, 72));
  QApplication::setPalette(dark);
  QToolTip::setPalette(dark);
}

}  // namespace svgear
