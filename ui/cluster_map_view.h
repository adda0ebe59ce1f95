#pragma once
// ClusterMapView: the cluster of every token of one latent frame, as a colour image on the token
// grid (one cell per token, colours from cluster_palette.h), drawn over the video frame at that
// time with adjustable opacity. Hovering a cell names its token, cluster and the cluster's size.

#include <cstdint>
#include <vector>

#include <QImage>
#include <QWidget>

namespace svgear {

class ClusterMapView : public QWidget {
  Q_OBJECT

 public:
  explicit ClusterMapView(QWidget* parent);

  // labels: [frames · height · width] token → cluster in [0, clusters), frame-major, then rows,
  // then columns. Empty labels clear the view, which then says `why_none` (else how to get some).
  void setLabels(const std::vector<int32_t>& labels, int clusters, int frames, int height, int width,
                 const QString& why_none = QString());
  const QString& whyNone() const { return why_none_; }
  void setFrame(int frame);
  // The video frame under the clusters (any size: it is stretched over the grid); null for none.
  void setUnderlay(const QImage& frame);
  // The clusters' opacity over the underlay, in [0, 1].
  void setOpacity(double opacity);
  // The shown frame's clusters, one pixel per token (null without labels).
  const QImage& labelImage() const { return image_; }

  QSize sizeHint() const override { return {220, 220}; }

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;

 private:
  void rebuild();
  QRect gridArea() const;

  QString why_none_;  // shown without labels
  std::vector<int32_t> labels_;
  std::vector<int64_t> sizes_;  // tokens per cluster over all frames
  int frames_ = 0;
  int height_ = 0;
  int width_ = 0;
  int frame_ = 0;
  double opacity_ = 0.85;
  QImage underlay_;
  QImage image_;
};

}  // namespace svgear
