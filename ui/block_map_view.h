#pragma once
// BlockMapView: the block map of one RoutingTrace — query clusters down, key clusters across, one
// cell per (query cluster, key cluster) block. Coloured by the routing decision (exact, compensated
// by the key centroid, or skipped) or by the probe's estimated error log ε̂²_ij; strips along the
// edges carry the clusters' colours (cluster_palette.h), and hovering a cell names its clusters.
// With more clusters than device pixels along an axis (Wan's default 1000 key clusters in a dock a
// few hundred pixels wide) each pixel shows its range of blocks reduced, not one of them sampled:
// the share routed exactly, or the largest estimated error.

#include <cstdint>
#include <utility>
#include <vector>

#include <QImage>
#include <QWidget>

#include "core/attention/routing_trace.h"

namespace svgear {

class BlockMapView : public QWidget {
  Q_OBJECT

 public:
  enum class Colouring { Unset, Routing, EstimatedError };
  enum class ClusterOrder { Unset, ById, BySize };

  explicit BlockMapView(QWidget* parent);

  // Copies the block map of `trace`; nullptr shows an empty view that says `why_none` (default: how
  // to get a trace).
  void setTrace(const RoutingTrace* trace, const QString& why_none = QString());
  void setColouring(Colouring colouring);
  void setClusterOrder(ClusterOrder order);
  // One pixel per block, in the drawn order and colours (null without a trace).
  const QImage& blocks() const { return blocks_; }
  // What the view says without a map (empty: how to get a trace).
  const QString& whyNone() const { return why_none_; }
  // What the pixel of the cell area at `pos` (widget coordinates) shows, as its tooltip says it:
  // one block, or the blocks reduced into it. Empty outside the cells or without a trace.
  QString describeAt(QPoint pos) const;
  // Where the blocks are drawn, in widget coordinates (the strips and the legend lie outside).
  QRect cellArea() const;

  QSize sizeHint() const override { return {260, 220}; }

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;

 private:
  void rebuild();
  // The routing colour of drawn rows [y0, y1) × columns [x0, x1), reduced when they are several blocks.
  QRgb spanColour(int y0, int y1, int x0, int x1) const;
  // The largest finite estimate among those blocks; NaN for none (all empty or without one).
  float spanLargestError(int y0, int y1, int x0, int x1) const;
  // The cell area drawn at `device_pixels`, one image pixel per device pixel.
  const QImage& cellImage(QSize device_pixels);
  bool hasErrors() const { return !block_log_error_.empty(); }
  std::vector<std::pair<QColor, QString>> swatches(bool reduced) const;
  std::pair<std::vector<QPoint>, int> placeSwatches(const std::vector<std::pair<QColor, QString>>& items,
                                                    int width) const;

  QString why_none_;  // shown without a map
  int q_clusters_ = 0;
  int k_clusters_ = 0;
  std::vector<int64_t> q_sizes_;
  std::vector<int64_t> k_sizes_;
  std::vector<uint8_t> block_map_;
  std::vector<float> block_log_error_;  // empty for SVG2 (no probe)
  float error_min_ = 0.0f;  // blocks()'s error scale: the estimates' 5th percentile to their largest
  float error_max_ = 0.0f;
  float shown_min_ = 0.0f;  // the drawn cells' (each pixel's largest estimate), also the legend's
  float shown_max_ = 0.0f;
  std::vector<int> rows_;     // drawn row → query cluster id
  std::vector<int> columns_;  // drawn column → key cluster id
  Colouring colouring_ = Colouring::Routing;
  ClusterOrder order_ = ClusterOrder::ById;
  QImage blocks_;
  QImage cell_image_;  // the cell area at device resolution, kept between paints until rebuild()
};

}  // namespace svgear
