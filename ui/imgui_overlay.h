#pragma once
// ImGuiOverlay: a Dear ImGui context drawn over a QOpenGLWidget's own painting, with the OpenGL3
// backend and ImGui 1.86's legacy input API (the widget hands it the mouse each frame). Call
// everything with the widget's GL context current: initialize() from initializeGL(), draw() at the
// end of paintGL() (after any QPainter has ended), shutdown() before the context goes away.

#include <functional>
#include <vector>

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

  // `font_pixels`: the text's height in logical pixels. The text is drawn with a system font that
  // has ε, ² and … (monospace_font_file.h), rasterised at the surface's device pixel ratio so it
  // stays sharp at scale factors 1.5 and 2; with ImGui's built-in bitmap font (ASCII and Latin-1)
  // where the system has no such font. False (and the overlay stays off) when the backend cannot start.
  bool initialize(float font_pixels);
  void shutdown();
  bool ready() const { return context_ != nullptr; }
  bool drawsUnicode() const { return !font_data_.empty(); }  // ε, ², …: else write ASCII
  float fontRasterPixels() const { return raster_pixels_; }  // glyph height in device pixels
  // One ImGui frame over a surface of `logical` size at `device_pixel_ratio`: `ui` makes the
  // ImGui calls (windows, text), which are then rendered into the bound framebuffer.
  void draw(QSize logical, double device_pixel_ratio, QPointF mouse, bool mouse_down, const std::function<void()>& ui);

 private:
  void buildFontAtlas(double device_pixel_ratio);

  ImGuiContext* context_ = nullptr;
  double last_time_s_ = 0.0;
  std::vector<unsigned char> font_data_;  // the font file, which the atlas reads but does not own
  int font_index_ = 0;
  float font_pixels_ = 13.0f;
  double atlas_ratio_ = 0.0;  // the device pixel ratio the glyphs were rasterised for; 0: none yet
  float raster_pixels_ = 0.0f;
  bool device_objects_ = false;  // the backend made its GL objects (in the first frame)
};

}  // namespace svgear
