#pragma once
// TestDisplay: an X display for the studio's tests. Uses $DISPLAY when set; otherwise starts a
// private Xvfb (found on PATH) and points $DISPLAY at it for the life of this object. The xcb
// platform is forced because Qt's `offscreen` platform crashes on QOpenGLWidget.

#include <sys/types.h>

#include <string>

namespace svgear::test {

class TestDisplay {
 public:
  TestDisplay();
  ~TestDisplay();
  TestDisplay(const TestDisplay&) = delete;
  TestDisplay& operator=(const TestDisplay&) = delete;

  bool available() const { return !display_.empty(); }
  const std::string& display() const { return display_; }
  // Stops the Xvfb this object started (the destructor does too).
  void stop();

 private:
  std::string display_;
  pid_t xvfb_ = -1;
};

}  // namespace svgear::test
