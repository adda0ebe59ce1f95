#include "ui/preview_widget.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <QCursor>
#include <QFontInfo>
#include <QMouseEvent>
#include <QWheelEvent>
#include <QOpenGLContext>
#include <QPainter>
#include <imgui.h>

#include "ui/video_frame_image.h"

namespace svgear {

namespace {
constexpr float kInspectorMargin = 10;  // logical pixels between the token inspector and the preview's edges
constexpr int kCaptionMargin = 8;       // between the caption's box and the preview's bottom edge
constexpr int kLabelPadding = 3;        // above and below a label's text, inside its box

// One line on a dark box 8 pixels from the left edge, its box's top or bottom (`from_bottom`) at
// `y`: the caption and the inspector's hint. Returns the box drawn.
QRect draw_label(QPainter& painter, const QString& text, int y, bool from_bottom) {
  const QRect box = painter.fontMetrics().boundingRect(text).adjusted(-6, -kLabelPadding, 6, kLabelPadding);
  const QRect placed = box.translated(8 - box.left(), y - (from_bottom ? box.bottom() : box.top()));
  painter.fillRect(placed, QColor(0, 0, 0, 170));
  painter.setPen(QColor(230, 230, 230));
  painter.drawText(placed, Qt::AlignCenter, text);
  return placed;
}
}  // namespace

PreviewWidget::PreviewWidget(QWidget* parent) : QOpenGLWidget(parent) {
  setMinimumSize(160, 120);
  // Tab reaches it too: its frame keys (←/→, Home/End) are no use to a keyboard that cannot get here.
  setFocusPolicy(Qt::StrongFocus);
  setMouseTracking(true);  // the inspector follows the mouse without a button held
}

PreviewWidget::~PreviewWidget() {
  // The base class destroys the context after this body, when overlay_ is gone already.
  if (context()) disconnect(context(), &QOpenGLContext::aboutToBeDestroyed, this, nullptr);
  shutdownOverlay();
}

void PreviewWidget::initializeGL() {
  // Moving the widget to another top-level window gives it a new context and runs initializeGL
  // again: the overlay's GL objects belong to the old context and go with it, then start anew here.
  connect(context(), &QOpenGLContext::aboutToBeDestroyed, this, [this] { shutdownOverlay(); });
  // The inspector's text at the studio's text size, at least ImGui's own 13 pixels (a monospace
  // font looks smaller than the studio's proportional one at the same size).
  overlay_.initialize(float(std::clamp(QFontInfo(font()).pixelSize(), 13, 24)));
}

void PreviewWidget::shutdownOverlay() {
  makeCurrent();
  overlay_.shutdown();
  doneCurrent();
}

void PreviewWidget::setInspection(const RoutingTrace* trace, const TokenGrid3& grid, const QString& label,
                                  const QString& why_none) {
  if (trace && grid.tokens() == int(trace->q_labels.size())) {
    trace_ = *trace;
    grid_ = grid;
    inspection_label_ = label;
    inspection_hint_.clear();
  } else {
    trace_.reset();
    inspection_hint_ = why_none;
  }
  refreshInspection();
}

void PreviewWidget::mousePressEvent(QMouseEvent* event) {
  // From the pan as drawn: pan_ itself may hold more than a grown widget or a smaller clip allows.
  pan_ = clampedPan(pan_);
  if (event->button() == Qt::LeftButton) drag_start_ = event->position() - pan_;
  event->accept();  // not on to the window, which some styles would drag
}

void PreviewWidget::mouseReleaseEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton) drag_start_.reset();
  event->accept();
}

void PreviewWidget::wheelEvent(QWheelEvent* event) {
  // 40 px a notch; Shift turns a vertical wheel sideways (where the system has not already).
  QPointF step = QPointF(event->angleDelta()) / 120.0 * 40.0;
  if ((event->modifiers() & Qt::ShiftModifier) && step.x() == 0.0) step = QPointF(step.y(), 0.0);
  const QPointF from = clampedPan(pan_);
  const QPointF moved = clampedPan(from + step);
  if (moved == from) {
    event->ignore();  // nothing to move: the panel around may scroll
    return;
  }
  pan_ = moved;
  refreshInspection();
}

QPointF PreviewWidget::clampedPan(QPointF pan) const {
  return frames_.empty() ? QPointF() : panWithin(pan, drawnSize(frames_[current_].size()));
}

QPointF PreviewWidget::panWithin(QPointF pan, QSizeF drawn) const {
  const double room_x = std::max(0.0, (drawn.width() - width()) / 2), room_y = std::max(0.0, (drawn.height() - height()) / 2);
  return {std::clamp(pan.x(), -room_x, room_x), std::clamp(pan.y(), -room_y, room_y)};
}

int PreviewWidget::fitHeight() const {
  if (zoom_ > 0.0 || caption_.isEmpty()) return height();
  const int band = fontMetrics().boundingRect(caption_).height() + 2 * kLabelPadding + kCaptionMargin;
  return std::max(height() / 2, height() - band);  // a large font on a short preview: half of it at least
}

QRectF PreviewWidget::frameRect() const { return frames_.empty() ? QRectF() : targetRect(frames_[current_].size()); }

void PreviewWidget::mouseMoveEvent(QMouseEvent* event) {
  const QPointF pan_before = pan_;
  if (drag_start_ && (event->buttons() & Qt::LeftButton)) pan_ = clampedPan(event->position() - *drag_start_);
  const bool entered = !hovering_;
  hovering_ = true;
  const int before = inspection_.token;
  inspectAt(event->position());
  // The overlay shows the token, not the pointer: a move within one token repaints nothing. The hint
  // that there is no inspector shows once the mouse is in.
  if (inspection_.token != before || pan_ != pan_before || (entered && !inspection_hint_.isEmpty())) update();
  QOpenGLWidget::mouseMoveEvent(event);
}

void PreviewWidget::leaveEvent(QEvent* event) {
  hovering_ = false;
  inspection_ = {};
  update();
  QOpenGLWidget::leaveEvent(event);
}

void PreviewWidget::resizeEvent(QResizeEvent* event) {
  QOpenGLWidget::resizeEvent(event);
  // The frame is drawn elsewhere at the new size, and the widget may have moved under a still
  // pointer: the token under the pointer now is inspected (the outline had stayed on the old one).
  if (!hovering_) return;
  const QPointF at = mapFromGlobal(QCursor::pos());
  if (rect().contains(at.toPoint())) {
    inspectAt(at);
  } else {
    hovering_ = false;
    inspection_ = {};
  }
}

void PreviewWidget::inspectAt(QPointF position) {
  mouse_ = position;
  inspection_ = {};
  if (trace_ && !frames_.empty()) {
    const QSize size = frames_[current_].size();
    const QRectF target = targetRect(size);
    const int x = int(std::floor((position.x() - target.left()) * size.width() / target.width()));
    const int y = int(std::floor((position.y() - target.top()) * size.height() / target.height()));
    const int token = token_at_pixel(grid_, frameCount(), size.height(), size.width(), current_, x, y);
    inspection_ = inspect_token(*trace_, grid_, token);
  }
}

void PreviewWidget::setClip(const SharedVideo& video) {
  frames_ = frame_images(video);
  fps_ = video->fps > 0 ? video->fps : 16.0;
  if (current_ >= frameCount()) current_ = 0;
  refreshInspection();
}

void PreviewWidget::clear(const QString& notice) {
  frames_.clear();
  current_ = 0;
  caption_.clear();
  notice_ = notice;
  inspection_ = {};
  update();
}

QSize PreviewWidget::frameSize() const { return frames_.empty() ? QSize() : frames_.front().size(); }

void PreviewWidget::setCurrentFrame(int index) {
  if (frames_.empty()) return;
  current_ = std::clamp(index, 0, frameCount() - 1);
  refreshInspection();
}

void PreviewWidget::setZoom(double zoom) {
  zoom_ = zoom;
  centre();
}

void PreviewWidget::centre() {
  pan_ = {};
  refreshInspection();
}

void PreviewWidget::refreshInspection() {
  // The token under a still mouse changes with the frame played, the clip and the zoom.
  if (hovering_) inspectAt(mouse_);
  update();
}

void PreviewWidget::setCaption(const QString& caption) {
  caption_ = caption;
  refreshInspection();  // at Fit the frame moves with the caption's band
}

QSizeF PreviewWidget::drawnSize(QSize image) const {
  // Scales are chosen in device pixels so model pixels stay square and sharp on high-DPI screens.
  const double dpr = devicePixelRatioF();
  double scale = zoom_;
  if (scale <= 0.0) {
    const double fit = std::min(width() * dpr / image.width(), fitHeight() * dpr / image.height());
    scale = fit >= 1.0 ? std::floor(fit) : fit;
  }
  return {image.width() * scale / dpr, image.height() * scale / dpr};
}

QRectF PreviewWidget::targetRect(QSize image) const {
  const QSizeF size = drawnSize(image);
  // Centred, unless the caption would cover it: then centred above the caption.
  const int fit_height = fitHeight();
  double top = (height() - size.height()) / 2;
  if (top + size.height() > fit_height) top = (fit_height - size.height()) / 2;
  // Held again: the widget may have grown since the drag.
  return QRectF(QPointF((width() - size.width()) / 2, top) + panWithin(pan_, size), size);
}

void PreviewWidget::paintGL() {
  paintContent();
  if (!hasFocus()) return;
  // Where the keys go: the frame keys step the preview only while it has the keyboard.
  QPainter painter(this);
  painter.setPen(QPen(palette().color(QPalette::Highlight), 2));
  painter.setBrush(Qt::NoBrush);
  painter.drawRect(QRectF(rect()).adjusted(1, 1, -1, -1));
}

void PreviewWidget::paintContent() {
  QPainter painter(this);
  painter.fillRect(rect(), QColor(18, 18, 19));
  if (frames_.empty()) {
    painter.setPen(QColor(140, 140, 140));
    const QString how = tr("No video yet.\nChoose a model, type a prompt and press Generate (Ctrl+Enter).");
    painter.drawText(rect().adjusted(16, 0, -16, 0), Qt::AlignCenter | Qt::TextWordWrap,
                     notice_.isEmpty() ? how : notice_);
    return;
  }
  const QImage& image = frames_[current_];
  const QRectF target = targetRect(image.size());
  // Nearest-neighbour when magnifying: the model's pixels are the data, not something to blur.
  painter.setRenderHint(QPainter::SmoothPixmapTransform, target.width() * devicePixelRatioF() < image.width());
  painter.drawImage(target, image);
  caption_rect_ = QRect();
  caption_drawn_.clear();
  if (!caption_.isEmpty()) {
    // A narrow preview cuts the caption, with an ellipsis, and keeps the frame number whole.
    const QString frame = QString("   frame %1/%2").arg(current_ + 1).arg(frameCount());
    const int room = width() - 2 * 8 - 2 * 6 - painter.fontMetrics().horizontalAdvance(frame);  // margins, padding
    caption_drawn_ = painter.fontMetrics().elidedText(caption_, Qt::ElideRight, std::max(0, room)) + frame;
    caption_rect_ = draw_label(painter, caption_drawn_, height() - kCaptionMargin, true);
  }
  hint_drawn_ = hovering_ && !trace_ && !inspection_hint_.isEmpty();
  if (hint_drawn_) draw_label(painter, inspection_hint_, 8, false);
  inspector_drawn_ = false;
  inspected_patch_ = QRectF();
  if (inspection_.token < 0) return;
  // Outline the hovered token's patch: the grid divides the frame evenly.
  const double tw = target.width() / grid_.width, th = target.height() / grid_.height;
  inspected_patch_ = QRectF(target.left() + inspection_.column * tw, target.top() + inspection_.row * th, tw, th);
  const auto outline = [this](QPainter& on) {
    on.setBrush(Qt::NoBrush);
    on.setPen(QPen(QColor(0, 0, 0), 4));  // black under white: visible over any video
    on.drawRect(inspected_patch_);
    on.setPen(QPen(QColor(255, 255, 255), 2));
    on.drawRect(inspected_patch_);
  };
  outline(painter);
  painter.end();  // ImGui draws into the same framebuffer, after QPainter is done with it
  drawInspector();
  // A preview too small for any corner to leave the token free: its outline goes over the window.
  if (inspector_drawn_ && inspector_rect_.intersects(inspected_patch_.adjusted(-2, -2, 2, 2))) {
    QPainter over(this);
    outline(over);
  }
}

void PreviewWidget::drawInspector() {
  if (!overlay_.ready()) return;
  const TokenInspection& t = inspection_;
  // ImGui's built-in font, where the system has no font with these, has ASCII and Latin-1 only.
  const bool unicode = overlay_.drawsUnicode();
  const char* const log_error = unicode ? "log \u03b5\u00b2" : "log e^2";  // the probe's log ε̂²
  auto list = [unicode](const std::vector<int>& clusters) {
    std::string text;
    // One line: the first 16, then how many more.
    for (size_t i = 0; i < clusters.size() && i < 16; ++i) text += (i ? " " : "") + std::to_string(clusters[i]);
    if (clusters.size() > 16) text += (unicode ? " \u2026 +" : " ... +") + std::to_string(clusters.size() - 16);
    return text.empty() ? std::string("none") : text;
  };
  overlay_.draw(size(), devicePixelRatioF(), mouse_, false, [&] {
    // The whole window is about 15 lines of up to 50 characters (~390×270 px at 13-pixel text).
    // A preview less than twice that in either direction gets the compact one (6 lines: the counts
    // and the largest error, no cluster lists), so a corner window still leaves the video beside it.
    const float line = ImGui::GetTextLineHeightWithSpacing(), character = ImGui::CalcTextSize("0").x;
    const bool compact = 2 * 15 * line > float(height()) || 2 * 50 * character > float(width());
    // The corner that leaves the hovered token uncovered, the one across from it first; where none
    // does (a token near the middle of a small preview), the one covering least of it. The size is
    // the last paint's (or a guess before the first): the window sizes itself to its lines.
    const QSizeF size = inspector_size_.isEmpty() || compact != inspector_compact_
                            ? QSizeF(50 * character, (compact ? 8 : 16) * line)
                            : inspector_size_;
    const QRectF token = inspected_patch_.adjusted(-2, -2, 2, 2);  // with the outline's pen
    const bool across_x = mouse_.x() < width() / 2.0, across_y = mouse_.y() < height() / 2.0;
    // Above the caption, which it had covered at a larger scale factor.
    const double bottom_edge = (caption_rect_.isNull() ? height() : caption_rect_.top()) - kInspectorMargin;
    double least = -1;
    std::pair<bool, bool> corner;  // right, bottom
    for (const auto& [right, bottom] : {std::pair{across_x, across_y}, std::pair{across_x, !across_y},
                                        std::pair{!across_x, across_y}, std::pair{!across_x, !across_y}}) {
      const QRectF placed(right ? width() - kInspectorMargin - size.width() : kInspectorMargin,
                          bottom ? bottom_edge - size.height() : kInspectorMargin, size.width(), size.height());
      const QRectF covered = placed.intersected(token);
      if (least >= 0 && covered.width() * covered.height() >= least) continue;
      least = covered.width() * covered.height();
      corner = {right, bottom};
    }
    const auto [right, bottom] = corner;
    ImGui::SetNextWindowPos(ImVec2(right ? float(width()) - kInspectorMargin : kInspectorMargin,
                                   bottom ? float(bottom_edge) : kInspectorMargin),
                            ImGuiCond_Always, ImVec2(right ? 1.0f : 0.0f, bottom ? 1.0f : 0.0f));
    ImGui::SetNextWindowBgAlpha(0.85f);
    ImGui::Begin("Token inspector", nullptr,
                 ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoFocusOnAppearing | ImGuiWindowFlags_NoNav |
                     ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoCollapse);  // it moves away from the mouse
    ImGui::TextUnformatted(inspection_label_.toStdString().c_str());
    ImGui::Separator();
    if (compact) {
      ImGui::Text("token %d  (grid frame %d, row %d, col %d; from 0)", t.token, t.frame, t.row, t.column);
      ImGui::Text("query cluster %d, key cluster %d", t.q_cluster, t.k_cluster);
    } else {
      // Counted from 0, as the trace counts them; the caption's video frames count from 1.
      ImGui::Text("token %d  (grid frame %d, row %d, column %d; counted from 0)", t.token, t.frame, t.row, t.column);
      ImGui::Text("query cluster %d: %lld token%s", t.q_cluster, static_cast<long long>(t.q_cluster_size),
                  t.q_cluster_size == 1 ? "" : "s");
      ImGui::Text("key cluster %d: %lld token%s", t.k_cluster, static_cast<long long>(t.k_cluster_size),
                  t.k_cluster_size == 1 ? "" : "s");
    }
    ImGui::Text("exact: %zu key clusters, %lld keys", t.exact.size(), static_cast<long long>(t.exact_keys));
    if (!compact) ImGui::Text("  %s", list(t.exact).c_str());
    // SVG2 has no probe and no compensation: the blocks it does not compute are skipped.
    const bool skipped = trace_ && std::isnan(trace_->estimated_log_error);
    ImGui::Text("%s: %zu key clusters", skipped ? "skipped" : "by centroid", t.compensated.size());
    if (!compact) ImGui::Text("  %s", list(t.compensated).c_str());
    // So that the three counts add up to the trace's key clusters.
    if (t.empty > 0) ImGui::Text("empty (no keys): %d key cluster%s", t.empty, t.empty == 1 ? "" : "s");
    if (!t.block_log_error.empty()) {
      // The largest estimated errors of this query cluster's row: where compensation is weakest.
      const size_t shown = compact ? 1 : std::min<size_t>(5, t.block_log_error.size());
      std::vector<int> order(t.block_log_error.size());
      for (size_t j = 0; j < order.size(); ++j) order[j] = int(j);
      std::partial_sort(order.begin(), order.begin() + shown, order.end(),
                        [&](int a, int b) { return t.block_log_error[size_t(a)] > t.block_log_error[size_t(b)]; });
      const auto exact = [&](int j) { return std::find(t.exact.begin(), t.exact.end(), j) != t.exact.end(); };
      if (compact) {
        ImGui::Text("max %s: %.2f, cluster %d, %s", log_error, double(t.block_log_error[size_t(order[0])]), order[0],
                    exact(order[0]) ? "exact" : "by centroid");
      } else {
        ImGui::Text("largest estimated errors (%s):", log_error);
        for (size_t i = 0; i < shown; ++i) {
          const int j = order[i];
          ImGui::Text("  key cluster %d: %.2f  %s", j, double(t.block_log_error[size_t(j)]), exact(j) ? "exact" : "by centroid");
        }
      }
    }
    inspector_size_ = QSizeF(ImGui::GetWindowWidth(), ImGui::GetWindowHeight());
    inspector_rect_ = QRectF(ImGui::GetWindowPos().x, ImGui::GetWindowPos().y, inspector_size_.width(),
                             inspector_size_.height());
    inspector_compact_ = compact;
    ImGui::End();
  });
  inspector_drawn_ = true;
}

}  // namespace svgear
