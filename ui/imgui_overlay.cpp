#include "ui/imgui_overlay.h"

#include <chrono>
#include <cstdio>

#include <imgui.h>
#include <backends/imgui_impl_opengl3.h>

namespace svgear {

ImGuiOverlay::~ImGuiOverlay() {
  if (context_) std::fprintf(stderr, "ImGuiOverlay destroyed without shutdown(): its GL objects leak\n");
}

bool ImGuiOverlay::initialize() {
  if (context_) return true;
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

void ImGuiOverlay::draw(QSize logical, double device_pixel_ratio, QPointF mouse, bool mouse_down,
                        const std::function<void()>& ui) {
  if (!context_ || logical.isEmpty()) return;
  ImGui::SetCurrentContext(context_);
  ImGuiIO& io = ImGui::GetIO();
  io.DisplaySize = ImVec2(float(logical.width()), float(logical.height()));
  io.DisplayFramebufferScale = ImVec2(float(device_pixel_ratio), float(device_pixel_ratio));
  const double now = std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  io.DeltaTime = last_time_s_ > 0.0 && now > last_time_s_ ? float(now - last_time_s_) : 1.0f / 60.0f;
  last_time_s_ = now;
  io.MousePos = ImVec2(float(mouse.x()), float(mouse.y()));
  io.MouseDown[0] = mouse_down;
  ImGui_ImplOpenGL3_NewFrame();
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
