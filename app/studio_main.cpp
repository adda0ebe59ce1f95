// svgear-studio: the desktop application.

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <QApplication>
#include <QThreadPool>

#include "ui/dark_theme.h"
#include "ui/main_window.h"
#include "ui/studio_icon.h"
#include "svgear/build_config.h"

namespace {

// Tasks on Qt's thread pool (model scans, library listings, reloads and deletions, the compare
// cache's listing and clearing) lose nothing when cut short: a deletion stopped midway leaves a
// hidden folder the library removes later, a half-cleared cached run is run again. On a network
// mount that stopped answering one never ends, and QApplication would wait for it without a window.
constexpr int kPoolStopMs = 10000;

constexpr const char* kUsage = R"(usage: svgear-studio [Qt's options, such as -platform xcb]

SVG-EAR Studio: generate videos with a built-in model or a Wan 2.1 / 2.2 folder, with dense, SVG2 or
SVG-EAR attention, and watch the sparse attention's routing as it runs.

  --help, -h   this text
  --version    the version, build type and LibTorch

Environment:
  SVGEAR_MODELS    folders to look for models in, separated by ':', before the built-in ones
  SVGEAR_LIBRARY   where finished runs are kept (else $XDG_DATA_HOME/svgear/library, else
                   ~/.local/share/svgear/library)
Settings are kept in $XDG_CONFIG_HOME/svgear/SVG-EAR Studio.conf (~/.config/svgear/ by default).
The command-line tool, for scripts and machines without a display, is svgear (`svgear --help`).
)";

}  // namespace

int main(int argc, char** argv) {
  // Before QApplication, which needs a display: asked on a terminal without one, the answer comes.
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (!std::strcmp(argv[i], "--version")) {
      std::printf("svgear-studio %s (%s, LibTorch %s)\n", SVGEAR_VERSION, SVGEAR_BUILD_TYPE, SVGEAR_TORCH_VERSION);
      return 0;
    }
  }
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
