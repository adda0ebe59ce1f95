#include "ui/block_map_view.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <numeric>
#include <tuple>
#include <utility>

#include <QHelpEvent>
#include <QLinearGradient>
#include <QPainter>
#include <QStringList>
#include <QToolTip>

#include "ui/cluster_palette.h"
#include "ui/viridis.h"

namespace svgear {
namespace {

constexpr int kStrip = 6;    // px: the cluster-colour strips along the left and top edges
constexpr int kGap = 2;      // px between a strip and the cells
constexpr int kLegend = 20;  // px: a line of the legend under the cells
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

// The drawn rows or columns [first, last) that device pixel `p` of `pixels` shows: one each when
// the clusters are fewer (a nearest-neighbour magnification), else its own run of them, so that
// every cluster falls in exactly one pixel and none is dropped.
std::pair<int, int> pixel_span(int p, int pixels, int clusters) {
  const int first = int(int64_t(p) * clusters / pixels);
  return {first, std::max(first + 1, int(int64_t(p + 1) * clusters / pixels))};
}

// The cell area in device pixels, the resolution the blocks are reduced to.
QSize device_pixels(QRect cells, double dpr) {
  return {std::max(1, int(std::lround(cells.width() * dpr))), std::max(1, int(std::lround(cells.height() * dpr)))};
}

// The error colouring's scale over `values` (finite log ε̂²): from their 5th percentile, so that a
// few key clusters estimated near exact do not press the rest into one colour (a shapes-s step's
// reduced map: the lowest pixels at -19, its 1st percentile 0.7, 5th 3.7, median 7.2, largest
// 11.4; at 64×64×8 a 1st percentile of -17 left 95% of the cells in the top 28% of the colours),
// to the largest, which alone is the top.
std::pair<float, float> error_scale(std::vector<float> values) {
  if (values.empty()) return {0.0f, 0.0f};
  const auto low = values.begin() + std::ptrdiff_t(0.05 * double(values.size() - 1));
  std::nth_element(values.begin(), low, values.end());
  return {*low, *std::max_element(values.begin(), values.end())};
}

QRgb mix(const QColor& a, const QColor& b, double t) {
  const auto channel = [t](int x, int y) { return int(std::lround(x + (y - x) * t)); };
  return qRgb(channel(a.red(), b.red()), channel(a.green(), b.green()), channel(a.blue(), b.blue()));
}

// How a reduced pixel of several blocks is coloured by routing: not exact when none is, else half
// way to orange and the rest of the way by the share exact, so that one exact block among many
// still stands out while the pixel says how many are.
QRgb share_colour(const QColor& not_exact, int exact, int blocks) {
  return exact == 0 ? not_exact.rgb() : mix(not_exact, kExact, 0.5 + 0.5 * exact / blocks);
}

// The clusters at drawn positions [first, last) of `order`: "key cluster 7", "key clusters 12–15"
// when they run in id order, else their ids (the first few).
QString cluster_names(const QString& kind, const std::vector<int>& order, int first, int last) {
  if (last - first == 1) return QObject::tr("%1 cluster %2").arg(kind).arg(order[first]);
  bool run = true;
  for (int k = first + 1; k < last; ++k) run = run && order[k] == order[k - 1] + 1;
  if (run) return QObject::tr("%1 clusters %2–%3").arg(kind).arg(order[first]).arg(order[last - 1]);
  QStringList ids;
  for (int k = first; k < last && ids.size() < 6; ++k) ids << QString::number(order[k]);
  if (last - first > 6) ids << QObject::tr("… (%1 in all)").arg(last - first);
  return QObject::tr("%1 clusters %2").arg(kind, ids.join(", "));
}

}  // namespace

BlockMapView::BlockMapView(QWidget* parent) : QWidget(parent) {
  setMinimumSize(160, 140);
  setMouseTracking(true);
}

void BlockMapView::setTrace(const RoutingTrace* trace, const QString& why_none) {
  why_none_ = why_none;
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
  cell_image_ = QImage();
  if (q_clusters_ <= 0 || k_clusters_ <= 0) {
    update();
    return;
  }
  rows_ = cluster_order(q_sizes_, order_);
  columns_ = cluster_order(k_sizes_, order_);
  const bool by_error = colouring_ == Colouring::EstimatedError && hasErrors();
  // The error scale of the finite estimates of non-empty blocks (empty clusters have none), in the
  // error colouring only: the routing colouring, the default, rebuilds at every traced step too.
  std::vector<float> estimates;
  for (int i = 0; i < q_clusters_ && by_error; ++i) {
    for (int j = 0; j < k_clusters_; ++j) {
      const float e = block_log_error_[size_t(i) * k_clusters_ + j];
      if (q_sizes_[i] > 0 && k_sizes_[j] > 0 && std::isfinite(e)) estimates.push_back(e);
    }
  }
  std::tie(error_min_, error_max_) = error_scale(std::move(estimates));
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

// The swatches of the exact / compensated colouring: "some exact" where blocks are reduced into
// pixels, and a note in error colouring of a run without estimates (SVG2).
std::vector<std::pair<QColor, QString>> BlockMapView::swatches(bool reduced) const {
  std::vector<std::pair<QColor, QString>> out = {{kExact, tr("exact")}};
  out.emplace_back(hasErrors() ? kCompensated : kSkipped, hasErrors() ? tr("compensated") : tr("skipped"));
  if (reduced) out.emplace_back(QColor(share_colour(hasErrors() ? kCompensated : kSkipped, 1, 4)), tr("some exact"));
  if (colouring_ == Colouring::EstimatedError) out.emplace_back(kEmpty, tr("(SVG2: no error probe)"));
  return out;
}

// Where each swatch goes, wrapped onto as many legend lines as `width` needs (in one line a
// narrow panel cut the last names: "some exa"); .second: the lines.
std::pair<std::vector<QPoint>, int> BlockMapView::placeSwatches(const std::vector<std::pair<QColor, QString>>& items,
                                                                int width) const {
  std::vector<QPoint> at;
  int x = 0, line = 0;
  for (const auto& [colour, label] : items) {
    const int w = 14 + fontMetrics().horizontalAdvance(label);
    if (x > 0 && x + w > width) {
      x = 0;
      ++line;
    }
    at.emplace_back(x, line * kLegend);
    x += w + 12;
  }
  return {at, line + 1};
}

QRect BlockMapView::cellArea() const {
  const int width = this->width() - kStrip - kGap;
  // Sized for the most swatches, "some exact" included, which itself depends on the cells' size.
  const int lines = colouring_ == Colouring::EstimatedError && hasErrors() ? 1 : placeSwatches(swatches(true), width).second;
  return QRect(kStrip + kGap, kStrip + kGap, width, std::max(0, height() - kStrip - kGap - kLegend * lines));
}

void BlockMapView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().window());
  const QRect cells = cellArea();
  if (blocks_.isNull()) {
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap,
               why_none_.isEmpty() ? tr("Block map: generate with SVG2 or SVG-EAR attention and tracing on") : why_none_);
    return;
  }
  // One image pixel per device pixel (drawn 1:1, so Qt samples nothing): blocks magnified into
  // crisp rectangles, or several reduced into one pixel when they outnumber the pixels.
  // Device pixels per logical one where this paint lands: the screen's ratio, or that of the image
  // a render() or grab() fills (p.device() is then still the widget, at the screen's ratio).
  const double dpr = p.deviceTransform().mapRect(QRectF(cells)).width() / std::max(1, cells.width());
  const QSize device = device_pixels(cells, dpr);
  const bool reduced = k_clusters_ > device.width() || q_clusters_ > device.height();
  p.drawImage(QRectF(cells), cellImage(device));
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
    // Below the scale's start (its lowest 5%) is drawn at it.
    const QString low = QString("≤ ") + QString::number(shown_min_, 'f', 1);
    const QString high = QString::number(shown_max_, 'f', 1);
    const int bar_w = std::max(40, legend.width() / 3);
    const QRect bar(legend.left() + p.fontMetrics().horizontalAdvance(low) + 4, legend.top() + 3, bar_w,
                    legend.height() - 6);
    QLinearGradient gradient(bar.topLeft(), bar.topRight());
    for (int s = 0; s <= 4; ++s) gradient.setColorAt(s / 4.0, viridis(s / 4.0f));
    p.fillRect(bar, gradient);
    p.drawText(legend, Qt::AlignLeft | Qt::AlignVCenter, low);
    p.drawText(bar.right() + 4, legend.top(), legend.width(), legend.height(),
               Qt::AlignLeft | Qt::AlignVCenter,
               high + (reduced ? tr("  log ε̂² (max)") : tr("  log ε̂²   • exact")));
  } else {
    const std::vector<std::pair<QColor, QString>> items = swatches(reduced);
    const std::vector<QPoint> at = placeSwatches(items, legend.width()).first;
    for (size_t i = 0; i < items.size(); ++i) {
      const QPoint corner = legend.topLeft() + at[i];
      p.fillRect(QRect(corner.x(), corner.y() + 4, 10, 10), items[i].first);
      p.drawText(QRect(corner.x() + 14, corner.y(), legend.right() - corner.x() - 14, legend.height()),
                 Qt::AlignLeft | Qt::AlignVCenter, items[i].second);
    }
  }
}

QRgb BlockMapView::spanColour(int y0, int y1, int x0, int x1) const {
  if (y1 - y0 == 1 && x1 - x0 == 1) return reinterpret_cast<const QRgb*>(blocks_.constScanLine(y0))[x0];
  int blocks = 0, exact = 0;
  for (int y = y0; y < y1; ++y) {
    const int i = rows_[y];
    if (q_sizes_[i] == 0) continue;
    for (int x = x0; x < x1; ++x) {
      const int j = columns_[x];
      if (k_sizes_[j] == 0) continue;
      ++blocks;
      exact += block_map_[size_t(i) * k_clusters_ + j] != 0;
    }
  }
  return blocks == 0 ? kEmpty.rgb() : share_colour(hasErrors() ? kCompensated : kSkipped, exact, blocks);
}

float BlockMapView::spanLargestError(int y0, int y1, int x0, int x1) const {
  float largest = NAN;
  for (int y = y0; y < y1; ++y) {
    const int i = rows_[y];
    if (q_sizes_[i] == 0) continue;
    for (int x = x0; x < x1; ++x) {
      const int j = columns_[x];
      const float e = block_log_error_[size_t(i) * k_clusters_ + j];
      if (k_sizes_[j] > 0 && std::isfinite(e) && !(e <= largest)) largest = e;
    }
  }
  return largest;
}

const QImage& BlockMapView::cellImage(QSize device) {
  if (cell_image_.size() == device) return cell_image_;
  cell_image_ = QImage(device, QImage::Format_RGB32);
  std::vector<std::pair<int, int>> columns(size_t(device.width()));
  for (int px = 0; px < device.width(); ++px) columns[size_t(px)] = pixel_span(px, device.width(), k_clusters_);
  if (colouring_ != Colouring::EstimatedError || !hasErrors()) {
    for (int py = 0; py < device.height(); ++py) {
      const auto [y0, y1] = pixel_span(py, device.height(), q_clusters_);
      auto* line = reinterpret_cast<QRgb*>(cell_image_.scanLine(py));
      for (int px = 0; px < device.width(); ++px) {
        line[px] = spanColour(y0, y1, columns[size_t(px)].first, columns[size_t(px)].second);
      }
    }
    return cell_image_;
  }
  // Each pixel's largest estimate, so the block whose compensation would cost most never hides; the
  // scale is that of the pixels drawn, since the largest of several blocks sits high in the blocks'.
  std::vector<float> largest(size_t(device.width()) * device.height());
  for (int py = 0; py < device.height(); ++py) {
    const auto [y0, y1] = pixel_span(py, device.height(), q_clusters_);
    for (int px = 0; px < device.width(); ++px) {
      const auto [x0, x1] = columns[size_t(px)];
      largest[size_t(py) * device.width() + px] = spanLargestError(y0, y1, x0, x1);
    }
  }
  std::vector<float> shown;
  std::copy_if(largest.begin(), largest.end(), std::back_inserter(shown), [](float e) { return std::isfinite(e); });
  std::tie(shown_min_, shown_max_) = error_scale(std::move(shown));
  const float span = std::max(shown_max_ - shown_min_, 1e-6f);
  for (int py = 0; py < device.height(); ++py) {
    auto* line = reinterpret_cast<QRgb*>(cell_image_.scanLine(py));
    for (int px = 0; px < device.width(); ++px) {
      const float e = largest[size_t(py) * device.width() + px];
      line[px] = std::isfinite(e) ? viridis((e - shown_min_) / span).rgb() : kEmpty.rgb();
    }
  }
  return cell_image_;
}

QString BlockMapView::describeAt(QPoint pos) const {
  const QRect cells = cellArea();
  if (blocks_.isNull() || !cells.contains(pos)) return {};
  // The device pixels under the mouse's (logical) pixel, and the drawn rows and columns they show,
  // by the mapping the drawing uses.
  const double dpr = devicePixelRatioF();
  const QSize device = device_pixels(cells, dpr);
  const auto drawn = [dpr](int offset, int pixels, int clusters) {
    const int first = std::min(pixels - 1, int(std::floor(offset * dpr)));
    const int last = std::clamp(int(std::ceil((offset + 1) * dpr)), first + 1, pixels);
    return std::pair(pixel_span(first, pixels, clusters).first, pixel_span(last - 1, pixels, clusters).second);
  };
  const auto [y0, y1] = drawn(pos.y() - cells.top(), device.height(), q_clusters_);
  const auto [x0, x1] = drawn(pos.x() - cells.left(), device.width(), k_clusters_);

  if (y1 - y0 == 1 && x1 - x0 == 1) {
    const int i = rows_[y0];
    const int j = columns_[x0];
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
    return text;
  }

  // Several blocks in this pixel: what it reduces them to.
  int blocks = 0, empty = 0;
  std::vector<std::pair<int, int>> exact;  // (query, key) clusters
  int largest_i = -1, largest_j = -1;
  float largest = -INFINITY;
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) {
      const int i = rows_[y];
      const int j = columns_[x];
      if (q_sizes_[i] == 0 || k_sizes_[j] == 0) {
        ++empty;
        continue;
      }
      const size_t block = size_t(i) * k_clusters_ + j;
      ++blocks;
      if (block_map_[block]) exact.emplace_back(i, j);
      if (hasErrors() && std::isfinite(block_log_error_[block]) && block_log_error_[block] > largest) {
        largest = block_log_error_[block];
        largest_i = i;
        largest_j = j;
      }
    }
  }
  QString text = tr("%1 × %2\n").arg(cluster_names(tr("query"), rows_, y0, y1), cluster_names(tr("key"), columns_, x0, x1));
  text += tr("%1 of %2 blocks %3").arg(exact.size()).arg(blocks).arg(hasErrors() ? tr("exact") : tr("exact, the rest skipped"));
  if (empty > 0) text += tr(" (and %1 of empty clusters)").arg(empty);
  if (!exact.empty() && exact.size() <= 3) {
    QStringList names;
    for (const auto& [i, j] : exact) names << tr("query %1 × key %2").arg(i).arg(j);
    text += ": " + names.join(", ");
  }
  if (largest_i >= 0) {
    const bool is_exact = block_map_[size_t(largest_i) * k_clusters_ + largest_j] != 0;
    text += tr("\nlargest estimated log ε̂² = %1: query cluster %2 × key cluster %3 (%4)")
                .arg(largest, 0, 'f', 2)
                .arg(largest_i)
                .arg(largest_j)
                .arg(is_exact ? tr("exact") : tr("compensated"));
  }
  return text;
}

bool BlockMapView::event(QEvent* event) {
  if (event->type() != QEvent::ToolTip) return QWidget::event(event);
  auto* help = static_cast<QHelpEvent*>(event);
  const QString text = describeAt(help->pos());
  if (text.isEmpty()) {
    QToolTip::hideText();
  } else {
    QToolTip::showText(help->globalPos(), text, this);
  }
  return true;
}

}  // namespace svgear
