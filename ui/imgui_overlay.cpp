#include "ui/imgui_overlay.h"

#include <chrono>
#include <cstdio>
#include <utility>

#include <imgui.h>
#include <backends/imgui_impl_opengl3.h>

#include "ui/monospace_font_file.h"

namespace svgear {

ImGuiOverlay::~ImGuiOverlay() {
  if (context_) std::fprintf(stderr, "ImGuiOverlay destroyed without shutdown(): its GL objects leak\n");
}

bool ImGuiOverlay::initialize(float font_pixels) {
  if (context_) return true;
  font_pixels_ = font_pixels;
  if (font_data_.empty()) {  // else ImGui's own font
    FontFile font = monospace_font_file(U"\u03b5\u00b2\u2026");
    font_data_ = std::move(font.data);
    font_index_ = font.index;
  }
  IMGUI_CHECKVERSION();
  ImGuiContext* previous = ImGui::GetCurrentContext();
  context_ = ImGui::CreateContext();
  ImGui::SetCurrentContext(context_);
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // no imgui.ini beside the user's files
  io.LogFilename = nullptr;
  ImGui::StyleColorsDark();
  ImGui::GetStyle().Alpha = 0.92f;
  // GLSL 1.30 runs on every desktop context Qt gives a QOpenGLWidget (also llvmpipe under Xvfb).
  if (!ImGui_ImplOpenGL3_Init("#version 130")) {
    ImGui::DestroyContext(context_);
    context_ = nullptr;
  }
  atlas_ratio_ = 0.0;
  device_objects_ = false;
  ImGui::SetCurrentContext(previous);
  return context_ != nullptr;
}

void ImGuiOverlay::shutdown() {
  if (!context_) return;
  ImGui::SetCurrentContext(context_);
  ImGui_ImplOpenGL3_Shutdown();
  ImGui::DestroyContext(context_);
  context_ = nullptr;
}

void ImGuiOverlay::buildFontAtlas(double device_pixel_ratio) {
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  ImFontConfig config;
  raster_pixels_ = float(font_pixels_ * device_pixel_ratio);
  if (!font_data_.empty()) {
    // Latin-1, Greek, punctuation (…) and super- and subscripts: what the inspector's lines hold.
    static const ImWchar ranges[] = {0x0020, 0x00FF, 0x0370, 0x03FF, 0x2000, 0x206F, 0x2070, 0x209F, 0};
    config.FontDataOwnedByAtlas = false;
    config.FontNo = font_index_;
    io.Fonts->AddFontFromMemoryTTF(font_data_.data(), int(font_data_.size()), raster_pixels_, &config, ranges);
  } else {
    config.SizePixels = raster_pixels_;
    io.Fonts->AddFontDefault(&config);
  }
  // Layout stays in logical pixels; the glyphs map one texel to one device pixel.
  io.FontGlobalScale = float(1.0 / device_pixel_ratio);
  if (device_objects_) {  // else the first frame's NewFrame makes the texture from this atlas
    ImGui_ImplOpenGL3_DestroyFontsTexture();
    ImGui_ImplOpenGL3_CreateFontsTexture();
  }
  atlas_ratio_ = device_pixel_ratio;
}

void ImGuiOverlay::draw(QSize logical, double device_pixel_ratio, QPointF mouse, bool mouse_down,
                        const std::function<void()>& ui) {
  if (!context_ || logical.isEmpty()) return;
  ImGui::SetCurrentContext(context_);
  // A window moved to a screen of another scale factor: the glyphs are rasterised again for it.
  if (device_pixel_ratio != atlas_ratio_) buildFontAtlas(device_pixel_ratio);
  ImGuiIO& io = ImGui::GetIO();
  io.DisplaySize = ImVec2(float(logical.width()), float(logical.height()));
  io.DisplayFramebufferScale = ImVec2(float(device_pixel_ratio), float(device_pixel_ratio));
  const double now = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  io.DeltaTime = last_time_s_ > 0.0 && now > last_time_s_ ? float(now - last_time_s_) : 1.0f / 60.0f;
  last_time_s_ = now;
  io.MousePos = ImVec2(float(mouse.x()), float(mouse.y()));
  io.MouseDown[0] = mouse_down;
  ImGui_ImplOpenGL3_NewFrame();
  device_objects_ = true;
  // ImGui sizes an auto-sized window from the content of its frame before (and hides it in the
  // frame it first appears): each paint runs one frame unseen first, so the window it shows fits
  // what it shows now (a longer cluster list, the compact inspector), not the last paint's.
  for (int pass = 0; pass < 2; ++pass) {
    ImGui::NewFrame();
    ui();
    ImGui::Render();
  }
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
}

}  // namespace svgear
