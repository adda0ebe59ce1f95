#include "ui/sweep_view.h"

#include <algorithm>
#include <cmath>

#include <QFontMetricsF>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QSettings>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include "core/metrics/video_quality.h"
#include "core/user_error.h"
#include "ui/counted.h"
#include "ui/plot_style.h"
#include "ui/speedup_text.h"
#include "ui/qcustomplot_include.h"

namespace svgear {
namespace {

const QColor kPoint(255, 170, 60);
// Identical videos have infinite PSNR; the plot draws them on this ceiling.
constexpr double kPlotCeilingDb = 100.0;

// Where a point is drawn: (speedup, PSNR), identical videos on the ceiling.
QPointF plotted(const SweepPoint& p) {
  return {p.speedup(), std::isfinite(p.mean_psnr_db) ? p.mean_psnr_db : kPlotCeilingDb};
}

// A budget as typed, to six significant digits: "0.95", "0.905", "1e-05" (not 0.000).
QString budget_text(double top_p) { return QString::number(top_p, 'g', 6); }

}  // namespace

SweepView::SweepView(QWidget* parent)
    : QWidget(parent),
      budgets_(new QLineEdit("0.5, 0.7, 0.8, 0.9, 0.95", this)),
      status_(new QLabel(this)),
      plot_(new QCustomPlot(this)),
      table_(new QTableWidget(0, 5, this)),
      use_(new QPushButton(tr("Use this budget"), this)) {
  budgets_->setObjectName("sweep_budgets");
  budgets_->setToolTip(tr("Top-p budgets to run, comma separated, each in (0, 1]; the sparse mode is the "
                          "settings' (SVG-EAR when they say dense)"));
  status_->setObjectName("sweep_status");
  status_->setWordWrap(true);
  status_->setText(tr("Sweep (Ctrl+Shift+P) runs the current prompt dense once and sparse at each budget, same "
                      "seed, and plots speed against fidelity here."));
  plot_->setObjectName("sweep_plot");
  plot_->setMinimumSize(260, 160);
  connect(plot_, &QCustomPlot::afterLayout, this, [this] { placeLabels(); });
  plot_->setBackground(palette().window());
  plot_->axisRect()->setBackground(QColor(30, 30, 32));
  for (QCPAxis* axis : {plot_->xAxis, plot_->yAxis}) style_plot_axis(axis);
  fit_vertical_axes_to_height(plot_);
  plot_->xAxis->setLabel(tr("speedup per denoising step (dense = 1)"));
  plot_->yAxis->setLabel(tr("PSNR to dense (dB)"));
  graph_ = plot_->addGraph();
  graph_->setLineStyle(QCPGraph::lsNone);
  graph_->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, kPoint, kPoint, 8));
  table_->setObjectName("sweep_table");
  table_->setHorizontalHeaderLabels({tr("top-p"), tr("PSNR dB"), tr("SSIM"), tr("ms/step"), tr("speedup")});
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  table_->verticalHeader()->setVisible(false);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  use_->setObjectName("sweep_use_budget");
  use_->setEnabled(false);
  use_->setToolTip(tr("Set the settings' attention mode and budget to the selected row's"));

  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel(tr("Budgets:"), this));
  top->addWidget(budgets_, 1);
  auto* side = new QVBoxLayout;
  side->addWidget(table_, 1);
  side->addWidget(use_);
  auto* body = new QHBoxLayout;
  body->addWidget(plot_, 3);
  body->addLayout(side, 2);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(status_);
  layout->addLayout(body, 1);

  connect(table_, &QTableWidget::itemSelectionChanged, this,
          [this] { use_->setEnabled(!table_->selectedItems().isEmpty()); });
  connect(use_, &QPushButton::clicked, this, [this] { chooseRow(table_->currentRow()); });
  connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) { chooseRow(row); });
}

std::vector<double> SweepView::budgets() const {
  std::vector<double> out;
  for (const QString& part : budgets_->text().split(',', Qt::SkipEmptyParts)) {
    if (part.trimmed().isEmpty()) continue;  // "0.5, 0.7, ": a comma at the end, or two
    bool ok = false;
    const double value = part.trimmed().toDouble(&ok);
    if (!ok || !(value > 0.0 && value <= 1.0)) {
      throw UserError("sweep budget '" + part.trimmed().toStdString() + "' is not a top-p in (0, 1]");
    }
    if (std::find(out.begin(), out.end(), value) == out.end()) out.push_back(value);
  }
  if (out.empty()) throw UserError("type at least one sweep budget, e.g. 0.5, 0.9");
  std::sort(out.begin(), out.end());
  return out;
}

// Disabled, as the settings are during a run: read-only, it still took focus and looked editable,
// and Space there played the preview (a read-only line edit leaves Space to the shortcut).
void SweepView::setBudgetsEnabled(bool enabled) { budgets_->setEnabled(enabled); }

void SweepView::save(QSettings& settings) const {
  settings.setValue("sweep/budgets", budgets_->text());
  QVariantList points;
  for (const SweepPoint& p : points_) {
    // As text: an identical video's infinite PSNR, which QSettings would not keep as a number.
    points << QVariantMap{{"mode", QString::fromStdString(p.mode)},
                          {"top_p", QString::number(p.top_p, 'g', 17)},
                          {"psnr_db", QString::number(p.mean_psnr_db, 'g', 17)},
                          {"ssim", QString::number(p.mean_ssim, 'g', 17)},
                          {"step_ms", QString::number(p.step_ms, 'g', 17)},
                          {"dense_step_ms", QString::number(p.dense_step_ms, 'g', 17)}};
  }
  settings.setValue("sweep/points", points);
  settings.setValue("sweep/request", request_);
}

void SweepView::restore(const QSettings& settings) {
  if (settings.contains("sweep/budgets")) budgets_->setText(settings.value("sweep/budgets").toString());
  // A hand-edited or damaged entry is left out, not plotted: each number must read back as one.
  std::vector<SweepPoint> restored;
  for (const QVariant& saved : settings.value("sweep/points").toList()) {
    const QVariantMap m = saved.toMap();
    SweepPoint p;
    p.mode = m.value("mode").toString().toStdString();
    bool ok[5] = {};
    p.top_p = m.value("top_p").toString().toDouble(&ok[0]);
    p.mean_psnr_db = m.value("psnr_db").toString().toDouble(&ok[1]);
    p.mean_ssim = m.value("ssim").toString().toDouble(&ok[2]);
    p.step_ms = m.value("step_ms").toString().toDouble(&ok[3]);
    p.dense_step_ms = m.value("dense_step_ms").toString().toDouble(&ok[4]);
    const bool numbers = std::all_of(std::begin(ok), std::end(ok), [](bool b) { return b; });
    if (!numbers || (p.mode != "svg2" && p.mode != "svgear") || !(p.top_p > 0.0 && p.top_p <= 1.0) ||
        std::isnan(p.mean_psnr_db) || !std::isfinite(p.mean_ssim) || !(p.step_ms > 0.0 && std::isfinite(p.step_ms)) ||
        !(p.dense_step_ms > 0.0 && std::isfinite(p.dense_step_ms))) {
      continue;
    }
    restored.push_back(p);
  }
  if (restored.empty()) return;
  points_ = std::move(restored);
  table_->setRowCount(0);
  for (const SweepPoint& p : points_) showPoint(p);
  replot();
  request_ = settings.value("sweep/request").toString();
  const QString budgets = counted(qsizetype(points_.size()), tr("budget"), tr("budgets"));
  status_->setText(request_.isEmpty() ? tr("The last session's sweep: %1").arg(budgets)
                                      : tr("The last session's sweep of %1: %2").arg(request_, budgets));
}

// The previous sweep's points go when the new sweep's first point arrives, not before: a sweep
// refused for its request (an unknown word, a size the model cannot take), or failed or cancelled
// before its first point (in its dense run), loses nothing.
void SweepView::start(const QString& what, const QString& request) {
  replace_on_point_ = true;
  starting_request_ = request;
  status_->setText(what);
}

void SweepView::showRunning(const QString& what) { status_->setText(what); }
void SweepView::showMessage(const QString& message) { status_->setText(message); }

void SweepView::refuseBudgets(const QString& why) {
  status_->setText(points_.empty() ? tr("Not swept: %1").arg(why)
                                   : tr("Not swept: %1. The points shown are the last sweep's.").arg(why));
  budgets_->setFocus();
}
void SweepView::finish(const QString& summary) { status_->setText(summary); }

void SweepView::addPoint(const SweepPoint& p) {
  if (replace_on_point_) {
    replace_on_point_ = false;
    points_.clear();
    request_ = starting_request_;
    table_->setRowCount(0);
    use_->setEnabled(false);
  }
  points_.push_back(p);
  showPoint(p);
  replot();
}

void SweepView::showPoint(const SweepPoint& p) {
  const int row = table_->rowCount();
  table_->insertRow(row);
  const QStringList cells = {budget_text(p.top_p), QString::fromStdString(format_psnr_db(p.mean_psnr_db)),
                             QString::number(p.mean_ssim, 'f', 4), QString::number(p.step_ms, 'f', 1),
                             speedup_text(p.speedup())};
  for (int c = 0; c < cells.size(); ++c) table_->setItem(row, c, new QTableWidgetItem(cells[c]));
}

int SweepView::plottedPoints() const { return graph_->dataCount(); }

void SweepView::chooseRow(int row) {
  if (row < 0 || row >= int(points_.size())) return;
  const SweepPoint& p = points_[size_t(row)];
  Q_EMIT budgetChosen(QString::fromStdString(p.mode), p.top_p);
}

void SweepView::replot() {
  QVector<double> x, y;
  for (const SweepPoint& p : points_) {
    x << plotted(p).x();
    y << plotted(p).y();
  }
  // QCustomPlot sorts graph data by key; the labels carry the budgets.
  graph_->setData(x, y);
  if (!points_.empty()) {
    // From 0 (so the dense line, 1×, is in view) past the fastest; a few dB around the PSNRs.
    plot_->xAxis->setRange(0.0, std::max(1.2, *std::max_element(x.begin(), x.end()) * 1.25));
    plot_->yAxis->setRange(*std::min_element(y.begin(), y.end()) - 3.0, *std::max_element(y.begin(), y.end()) + 3.0);
  }
  plot_->replot();  // placeLabels() runs inside, once the axes are laid out
}

// A point's label that would overprint an earlier one (budgets of nearly the same speed and PSNR, at
// the plot's size now) joins that one: "0.9, 0.905". Run after each layout, so a resize places them
// again.
void SweepView::placeLabels() {
  plot_->clearItems();
  struct Placed {
    QCPItemText* item;
    QRectF box;
  };
  std::vector<Placed> placed;
  const QFontMetricsF metrics(plot_->font());
  for (const SweepPoint& p : points_) {
    const QString text = budget_text(p.top_p);
    const QPointF at(plot_->xAxis->coordToPixel(plotted(p).x()), plot_->yAxis->coordToPixel(plotted(p).y()));
    const QRectF box(at.x(), at.y() - metrics.height(), metrics.horizontalAdvance(" " + text), metrics.height());
    const auto over = std::find_if(placed.begin(), placed.end(), [&](const Placed& l) { return l.box.intersects(box); });
    if (over != placed.end()) {
      over->item->setText(over->item->text() + ", " + text);
      over->box.setWidth(metrics.horizontalAdvance(over->item->text()));
      continue;
    }
    auto* label = new QCPItemText(plot_);
    label->setFont(plot_->font());
    label->position->setCoords(plotted(p));
    label->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
    label->setText(" " + text);
    label->setColor(kPlotText);
    placed.push_back({label, box});
  }
  // A label that would run past the plot's right edge (a joined one, a narrow dock) ends at its
  // point instead; one past its top edge (an identical run's PSNR, drawn at the top) hangs below it.
  const QRect area = plot_->axisRect()->rect();
  for (const Placed& l : placed) {
    const bool past_right = l.box.left() + metrics.horizontalAdvance(l.item->text()) > area.right();
    const bool past_top = l.box.top() < area.top();
    if (!past_right && !past_top) continue;
    l.item->setPositionAlignment((past_right ? Qt::AlignRight : Qt::AlignLeft) |
                                 (past_top ? Qt::AlignTop : Qt::AlignBottom));
    if (past_right) l.item->setText(l.item->text().trimmed() + " ");
  }
}

}  // namespace svgear
