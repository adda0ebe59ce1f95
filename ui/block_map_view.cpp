#include "ui/block_map_view.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <QHelpEvent>
#include <QLinearGradient>
#include <QPainter>
#include <QToolTip>

#include "ui/cluster_palette.h"
#include "ui/viridis.h"

namespace svgear {
namespace {

constexpr int kStrip = 6;    // px: the cluster-colour strips along the left and top edges
constexpr int kGap = 2;      // px between a strip and the cells
constexpr int kLegend = 20;  // px: the legend line under the cells
const QColor kExact(240, 160, 48);
const QColor kCompensated(59, 120, 194);
const QColor kSkipped(44, 44, 50);
const QColor kEmpty(24, 24, 27);

// Cluster ids in drawn order: as they are, or largest first (ties by id).
std::vector<int> cluster_order(const std::vector<int64_t>& sizes, BlockMapView::ClusterOrder order) {
  std::vector<int> ids(sizes.size());
  std::iota(ids.begin(), ids.end(), 0);
  if (order == BlockMapView::ClusterOrder::BySize) {
    std::stable_sort(ids.begin(), ids.end(), [&](int a, int b) { return sizes[a] > sizes[b]; });
  }
  return ids;
}

}  // namespace

BlockMapView::BlockMapView(QWidget* parent) : QWidget(parent) {
  setMinimumSize(160, 140);
  setMouseTracking(true);
}

void BlockMapView::setTrace(const RoutingTrace* trace) {
  if (!trace) {
    q_clusters_ = k_clusters_ = 0;
    q_sizes_.clear();
    k_sizes_.clear();
    block_map_.clear();
    block_log_error_.clear();
  } else {
    q_clusters_ = trace->q_clusters;
    k_clusters_ = trace->k_clusters;
    q_sizes_ = trace->q_sizes;
    k_sizes_ = trace->k_sizes;
    block_map_ = trace->block_map;
    block_log_error_ = trace->block_log_error;
  }
  rebuild();
}

void BlockMapView::setColouring(Colouring colouring) {
  colouring_ = colouring;
  rebuild();
}

void BlockMapView::setClusterOrder(ClusterOrder order) {
  order_ = order;
  rebuild();
}

void BlockMapView::rebuild() {
  blocks_ = QImage();
  if (q_clusters_ <= 0 || k_clusters_ <= 0) {
    update();
    return;
  }
  rows_ = cluster_order(q_sizes_, order_);
  columns_ = cluster_order(k_sizes_, order_);
  // The error scale spans the finite estimates of non-empty blocks; empty clusters have none.
  error_min_ = error_max_ = 0.0f;
  bool first = true;
  for (int i = 0; i < q_clusters_ && hasErrors(); ++i) {
    for (int j = 0; j < k_clusters_; ++j) {
      const float e = block_log_error_[size_t(i) * k_clusters_ + j];
      if (q_sizes_[i] == 0 || k_sizes_[j] == 0 || !std::isfinite(e)) continue;
      error_min_ = first ? e : std::min(error_min_, e);
      error_max_ = first ? e : std::max(error_max_, e);
      first = false;
    }
  }
  const bool by_error = colouring_ == Colouring::EstimatedError && hasErrors();
  const QRgb empty = kEmpty.rgb(), exact = kExact.rgb(), not_exact = (hasErrors() ? kCompensated : kSkipped).rgb();
  const float span = std::max(error_max_ - error_min_, 1e-6f);
  // Rebuilt on the GUI thread at every traced step (Wan: 200 × 1000 cells): rows written through
  // scanLine, not setPixel.
  blocks_ = QImage(k_clusters_, q_clusters_, QImage::Format_RGB32);
  for (int y = 0; y < q_clusters_; ++y) {
    const int i = rows_[y];
    auto* line = reinterpret_cast<QRgb*>(blocks_.scanLine(y));
    for (int x = 0; x < k_clusters_; ++x) {
      const int j = columns_[x];
      const size_t block = size_t(i) * k_clusters_ + j;
      QRgb colour = empty;
      if (q_sizes_[i] > 0 && k_sizes_[j] > 0) {
        if (by_error) {
          const float e = block_log_error_[block];
          colour = std::isfinite(e) ? viridis((e - error_min_) / span).rgb() : empty;
        } else {
          colour = block_map_[block] ? exact : not_exact;
        }
      }
      line[x] = colour;
    }
  }
  update();
}

QRect BlockMapView::cellArea() const {
  return QRect(kStrip + kGap, kStrip + kGap, width() - kStrip - kGap, height() - kStrip - kGap - kLegend);
}

void BlockMapView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().window());
  const QRect cells = cellArea();
  if (blocks_.isNull()) {
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap,
               tr("Block map: generate with SVG2 or SVG-EAR attention and tracing on"));
    return;
  }
  // Nearest-neighbour magnification keeps every block a crisp rectangle.
  p.setRenderHint(QPainter::SmoothPixmapTransform, false);
  p.drawImage(cells, blocks_);
  const double row_h = double(cells.height()) / q_clusters_;
  const double col_w = double(cells.width()) / k_clusters_;
  for (int y = 0; y < q_clusters_; ++y) {
    p.fillRect(QRectF(0, cells.top() + y * row_h, kStrip, row_h), cluster_colour(rows_[y]));
  }
  for (int x = 0; x < k_clusters_; ++x) {
    p.fillRect(QRectF(cells.left() + x * col_w, 0, col_w, kStrip), cluster_colour(columns_[x]));
  }
  const bool by_error = colouring_ == Colouring::EstimatedError && hasErrors();
  // In error colouring, a dot marks the blocks routed exactly, where cells are big enough for one.
  if (by_error && std::min(row_h, col_w) >= 5.0) {
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(Qt::NoPen);
    p.setBrush(Qt::white);
    const double r = std::min(row_h, col_w) * 0.18;
    for (int y = 0; y < q_clusters_; ++y) {
      for (int x = 0; x < k_clusters_; ++x) {
        if (!block_map_[size_t(rows_[y]) * k_clusters_ + columns_[x]]) continue;
        p.drawEllipse(QPointF(cells.left() + (x + 0.5) * col_w, cells.top() + (y + 0.5) * row_h), r, r);
      }
    }
  }

  // legend
  const QRect legend(cells.left(), cells.bottom() + 4, cells.width(), kLegend - 4);
  p.setPen(palette().color(QPalette::WindowText));
  if (by_error) {
    const QString low = QString::number(error_min_, 'f', 1);
    const QString high = QString::number(error_max_, 'f', 1);
    const int bar_w = std::max(40, legend.width() / 3);
    const QRect bar(legend.left() + p.fontMetrics().horizontalAdvance(low) + 4, legend.top() + 3, bar_w,
                    legend.height() - 6);
    QLinearGradient gradient(bar.topLeft(), bar.topRight());
    for (int s = 0; s <= 4; ++s) gradient.setColorAt(s / 4.0, viridis(s / 4.0f));
    p.fillRect(bar, gradient);
    p.drawText(legend, Qt::AlignLeft | Qt::AlignVCenter, low);
    p.drawText(bar.right() + 4, legend.top(), legend.width(), legend.height(),
               Qt::AlignLeft | Qt::AlignVCenter, high + tr("  log ε̂²   • exact"));
  } else {
    int x = legend.left();
    const auto swatch = [&](const QColor& colour, const QString& label) {
      p.fillRect(QRect(x, legend.top() + 4, 10, 10), colour);
      x += 14;
      p.drawText(x, legend.top(), legend.width(), legend.height(), Qt::AlignLeft | Qt::AlignVCenter, label);
      x += p.fontMetrics().horizontalAdvance(label) + 12;
    };
    swatch(kExact, tr("exact"));
    swatch(hasErrors() ? kCompensated : kSkipped, hasErrors() ? tr("compensated") : tr("skipped"));
    if (colouring_ == Colouring::EstimatedError) swatch(kEmpty, tr("(SVG2: no error probe)"));
  }
}

bool BlockMapView::event(QEvent* event) {
  if (event->type() != QEvent::ToolTip) return QWidget::event(event);
  auto* help = static_cast<QHelpEvent*>(event);
  const QRect cells = cellArea();
  if (blocks_.isNull() || !cells.contains(help->pos())) {
    QToolTip::hideText();
    return true;
  }
  const int y = std::min(q_clusters_ - 1, (help->pos().y() - cells.top()) * q_clusters_ / cells.height());
  const int x = std::min(k_clusters_ - 1, (help->pos().x() - cells.left()) * k_clusters_ / cells.width());
  const int i = rows_[y];
  const int j = columns_[x];
  const size_t block = size_t(i) * k_clusters_ + j;
  QString text = tr("query cluster %1 (%2 tokens) × key cluster %3 (%4 tokens)\n")
                     .arg(i)
                     .arg(q_sizes_[i])
                     .arg(j)
                     .arg(k_sizes_[j]);
  text += block_map_[block] ? tr("exact")
          : hasErrors()     ? tr("compensated by the key centroid")
                            : tr("skipped");
  if (hasErrors()) text += tr("\nestimated log ε̂² = %1").arg(block_log_error_[block], 0, 'f', 2);
  QToolTip::showText(help->globalPos(), text, this);
  return true;
}

}  // namespace svgear
