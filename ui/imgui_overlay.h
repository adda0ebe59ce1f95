#pragma once
// ImGuiOverlay: a Dear ImGui context drawn over a QOpenGLWidget's own painting, with the OpenGL3
// backend and ImGui 1.86's legacy input API (the widget hands it the mouse each frame). Call
// everything with the widget's GL context current: initialize() from initializeGL(), draw() at the
// end of paintGL() (after any QPainter has ended), shutdown() before the context goes away.

#include <functional>

#include <QPointF>
#include <QSize>

struct ImGuiContext;

namespace svgear {

class ImGuiOverlay {
 public:
  ImGuiOverlay() = default;
  ImGuiOverlay(const ImGuiOverlay&) = delete;
  ImGuiOverlay& operator=(const ImGuiOverlay&) = delete;
  ~ImGuiOverlay();  // shutdown() must have run; this only checks

  bool initialize();  // false (and the overlay stays off) when the backend cannot start
  void shutdown();
  bool ready() const { return context_ != nullptr; }
  // One ImGui frame over a surface of `logical` size at `device_pixel_ratio`: `ui` makes the
  // ImGui calls (windows, text), which are then rendered into the bound framebuffer.
  void draw(QSize logical, double device_pixel_ratio, QPointF mouse, bool mouse_down, const std::function<void()>& ui);

 private:
  ImGuiContext* context_ = nullptr;
  double last_time_s_ = 0.0;
};

}  // namespace svgear
