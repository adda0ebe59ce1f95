// svgear-studio: the desktop application.

#include <cstdio>
#include <cstdlib>

#include <QApplication>
#include <QThreadPool>

#include "ui/dark_theme.h"
#include "ui/main_window.h"
#include "ui/studio_icon.h"

namespace {

// Tasks on Qt's thread pool (model scans, library listings, reloads and deletions, the compare
// cache's listing and clearing) lose nothing when cut short: a deletion stopped midway leaves a
// hidden folder the library removes later, a half-cleared cached run is run again. On a network
// mount that stopped answering one never ends, and QApplication would wait for it without a window.
constexpr int kPoolStopMs = 10000;

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("svgear");  // QSettings: ~/.config/svgear/SVG-EAR Studio.conf
  QApplication::setApplicationName("SVG-EAR Studio");
  QApplication::setWindowIcon(svgear::studio_icon());
  // The installed launcher's name, so that a Wayland desktop shows its icon for the window.
  QGuiApplication::setDesktopFileName("svgear-studio");
  svgear::apply_dark_theme();
  int status = 0;
  {
    svgear::MainWindow window;
    window.show();
    status = QApplication::exec();
  }
  if (!QThreadPool::globalInstance()->waitForDone(kPoolStopMs)) {
    std::fprintf(stderr, "svgear-studio: file work on the thread pool did not end within %d s of closing the window "
                 "(a network mount that stopped answering?); quitting without it\n", kPoolStopMs / 1000);
    std::fflush(stderr);
    std::_Exit(svgear::kExitWorkDidNotStop);
  }
  return status;
}
