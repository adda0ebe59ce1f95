#pragma once
// BlockMapView: the block map of one RoutingTrace — query clusters down, key clusters across, one
// cell per (query cluster, key cluster) block. Coloured by the routing decision (exact, compensated
// by the key centroid, or skipped) or by the probe's estimated error log ε̂²_ij; strips along the
// edges carry the clusters' colours (cluster_palette.h), and hovering a cell names its clusters.

#include <cstdint>
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

  // Copies the block map of `trace`; nullptr shows an empty view.
  void setTrace(const RoutingTrace* trace);
  void setColouring(Colouring colouring);
  void setClusterOrder(ClusterOrder order);
  // One pixel per block, in the drawn order and colours (null without a trace).
  const QImage& blocks() const { return blocks_; }

  QSize sizeHint() const override { return {260, 220}; }

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;

 private:
  void rebuild();
  QRect cellArea() const;
  bool hasErrors() const { return !block_log_error_.empty(); }

  int q_clusters_ = 0;
  int k_clusters_ = 0;
  std::vector<int64_t> q_sizes_;
  std::vector<int64_t> k_sizes_;
  std::vector<uint8_t> block_map_;
  std::vector<float> block_log_error_;  // empty for SVG2 (no probe)
  float error_min_ = 0.0f;
  float error_max_ = 0.0f;
  std::vector<int> rows_;     // drawn row → query cluster id
  std::vector<int> columns_;  // drawn column → key cluster id
  Colouring colouring_ = Colouring::Routing;
  ClusterOrder order_ = ClusterOrder::ById;
  QImage blocks_;
};

}  // namespace svgear
