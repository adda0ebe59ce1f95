// svgear-studio: the desktop application.

#include <QApplication>

#include "core/io/exit_without_teardown.h"
#include "ui/dark_theme.h"
#include "ui/main_window.h"

namespace {

int run(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("svgear");  // QSettings: ~/.config/svgear/SVG-EAR Studio.conf
  QApplication::setApplicationName("SVG-EAR Studio");
  svgear::apply_dark_theme();
  svgear::MainWindow window;
  window.show();
  return QApplication::exec();
}

}  // namespace

// The window and the application are gone (settings written, worker thread joined) before the
// process skips LibTorch's static teardown, as every main of ours does.
int main(int argc, char** argv) { svgear::exit_without_teardown(run(argc, argv)); }
