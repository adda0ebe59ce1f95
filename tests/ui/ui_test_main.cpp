// The studio tests' main: finds or starts an X display, then runs the Qt Test suite. Without a
// display and without Xvfb it skips (exit code 77, ctest's SKIP_RETURN_CODE) instead of failing.

#include <cstdio>

#include <QApplication>
#include <QTemporaryDir>
#include <QTest>

#include "tests/ui/studio_window_test.h"
#include "tests/ui/test_display.h"
#include "ui/dark_theme.h"

namespace {

constexpr int kSkipped = 77;

int run(int argc, char** argv) {
  svgear::test::TestDisplay display;
  if (!display.available()) {
    std::printf("SKIPPED: no X display ($DISPLAY unset) and no Xvfb on PATH; the studio tests need one\n");
    return kSkipped;
  }
  // QSettings of this run stay in a scratch folder, not in the user's ~/.config.
  QTemporaryDir config;
  qputenv("XDG_CONFIG_HOME", config.path().toUtf8());
  // Compare's cached dense runs too (QStandardPaths::CacheLocation).
  QTemporaryDir cache;
  qputenv("XDG_CACHE_HOME", cache.path().toUtf8());
  // And the generation library.
  QTemporaryDir library;
  qputenv("SVGEAR_LIBRARY", library.path().toUtf8());
  QApplication app(argc, argv);
  QApplication::setOrganizationName("svgear-tests");
  QApplication::setApplicationName("studio-tests");
  svgear::apply_dark_theme();
  svgear::test::StudioWindowTest tests;
  return QTest::qExec(&tests, argc, argv);
}

}  // namespace

int main(int argc, char** argv) { return run(argc, argv); }
