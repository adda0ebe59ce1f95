// svgear-studio: the desktop application.

#include <QApplication>

#include "ui/dark_theme.h"
#include "ui/main_window.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("svgear");  // QSettings: ~/.config/svgear/SVG-EAR Studio.conf
  QApplication::setApplicationName("SVG-EAR Studio");
  svgear::apply_dark_theme();
  svgear::MainWindow window;
  window.show();
  return QApplication::exec();
}
