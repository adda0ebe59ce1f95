#pragma once
// PreviewWidget: draws one frame of a clip on an OpenGL surface. It holds the clip as QImages over
// a shared Video (no copy) and knows nothing about models or playback; PreviewPane drives it. Given a
// routing trace (setInspection), it is also the token inspector: hovering a pixel outlines its
// token and a Dear ImGui window over the video tells what the sparse attention did with it.

#include <optional>
#include <vector>

#include <QImage>
#include <QOpenGLWidget>
#include <QString>

#include "core/attention/routing_trace.h"
#include "core/media/video.h"
#include "ui/imgui_overlay.h"
#include "ui/token_inspector.h"

namespace svgear {

class PreviewWidget : public QOpenGLWidget {
  Q_OBJECT

 public:
  explicit PreviewWidget(QWidget* parent);
  ~PreviewWidget() override;  // releases the inspector's GL objects in the widget's context

  // Shows the frames without copying them (QImages over the shared video). The current frame index
  // is kept when the new clip has it, so a clip that is replaced after every sampling step keeps
  // playing smoothly.
  void setClip(const SharedVideo& video);
  void clear(const QString& notice = QString());  // shown in the frame's place; empty: how to make a clip
  int frameCount() const { return int(frames_.size()); }
  QSize frameSize() const;
  const QImage& frame(int index) const { return frames_.at(index); }
  double fps() const { return fps_; }

  int currentFrame() const { return current_; }
  void setCurrentFrame(int index);
  // Magnification of the video in device pixels per video pixel; 0 fits the widget. A frame
  // magnified past the widget is moved by dragging it or by the wheel (shift: sideways); a new zoom
  // centres it again, as does centre() (another video).
  void setZoom(double zoom);
  void centre();
  double zoom() const { return zoom_; }
  // One line drawn over the bottom-left corner ("estimate after step 3/20", "final").
  void setCaption(const QString& caption);
  const QString& caption() const { return caption_; }
  const QString& captionDrawn() const { return caption_drawn_; }  // by the last paint, with the frame number
  QRect captionRect() const { return caption_rect_; }               // its box by the last paint
  const QString& notice() const { return notice_; }
  QRectF frameRect() const;  // where the current frame is drawn, in widget coordinates

  // The trace the inspector reads (copied) over the DiT's token grid, and a label for it ("step 5 ·
  // layer 2 · head 1"); nullptr turns the inspector off, and `why_none`, when given, is shown on
  // hover instead ("pick a head": the head mean has no token maps).
  void setInspection(const RoutingTrace* trace, const TokenGrid3& grid, const QString& label,
                     const QString& why_none = QString());
  const QString& inspectionHint() const { return inspection_hint_; }
  bool inspectionHintDrawn() const { return hint_drawn_; }  // by the last paint
  // The token under the mouse and what the trace says about it (token −1: none).
  const TokenInspection& inspection() const { return inspection_; }
  bool inspectorDrawn() const { return inspector_drawn_; }  // by the last paint
  // The inspector window's size by the last paint, in logical pixels, and whether it was the
  // compact one (a preview too small to hold the whole window in a corner beside the token).
  QSizeF inspectorSize() const { return inspector_size_; }
  QRectF inspectorRect() const { return inspector_rect_; }
  QRectF inspectedPatch() const { return inspected_patch_; }  // the hovered token's outline
  bool inspectorCompact() const { return inspector_compact_; }

 protected:
  void initializeGL() override;
  void paintGL() override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void leaveEvent(QEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;

 private:
  void paintContent();  // the frame, its caption and the inspector: paintGL without the focus frame
  QSizeF drawnSize(QSize image) const;  // at the zoom, in logical pixels
  // At Fit, the height above the caption's band, which the frame is fitted into so that the
  // caption covers none of it; the whole height at a zoom factor (a magnified frame is panned).
  int fitHeight() const;
  QRectF targetRect(QSize image) const;
  // `pan` held to what keeps a frame drawn at `drawn`, or the current one, over the whole widget
  // (none when smaller).
  QPointF panWithin(QPointF pan, QSizeF drawn) const;
  QPointF clampedPan(QPointF pan) const;
  void inspectAt(QPointF position);
  void refreshInspection();  // inspectAt(mouse_) while the mouse is over the preview, then repaint
  void drawInspector();
  void shutdownOverlay();  // with this widget's context current

  std::vector<QImage> frames_;
  double fps_ = 16.0;
  int current_ = 0;
  double zoom_ = 0.0;
  QPointF pan_;                       // the frame's centre from the widget's, logical pixels
  std::optional<QPointF> drag_start_;  // the mouse at a left press, less pan_ then
  QString caption_;
  QString caption_drawn_;
  QString notice_;  // what an empty view says

  std::optional<RoutingTrace> trace_;
  TokenGrid3 grid_;
  QString inspection_label_;
  QString inspection_hint_;  // why there is no inspector, shown while hovering
  bool hint_drawn_ = false;
  QRect caption_rect_;       // the caption's box by the last paint: the inspector keeps above it
  QPointF mouse_;
  bool hovering_ = false;
  TokenInspection inspection_;
  ImGuiOverlay overlay_;
  bool inspector_drawn_ = false;
  QSizeF inspector_size_;
  QRectF inspector_rect_;   // where the window is, by the last paint
  QRectF inspected_patch_;  // the hovered token's square on the preview
  bool inspector_compact_ = false;
};

}  // namespace svgear
