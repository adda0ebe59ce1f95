#pragma once
// SweepView: a Pareto sweep's result — speedup per denoising step (x) against PSNR to the dense run
// (y), one point per top-p budget, labelled, and the same in a table. Choosing a row and "Use this
// budget" hands its mode and top-p to the settings: the operating point the user picked.

#include <vector>

#include <QWidget>

#include "ui/sweep_point.h"

class QCPGraph;
class QCustomPlot;
class QLabel;
class QLineEdit;
class QPushButton;
class QSettings;
class QTableWidget;

namespace svgear {

class SweepView : public QWidget {
  Q_OBJECT

 public:
  explicit SweepView(QWidget* parent);

  // The budgets typed in the field ("0.5, 0.7, 0.9"); throws UserError naming a bad entry.
  std::vector<double> budgets() const;
  // The previous sweep's points go at the new one's first point; `request` says what it sweeps
  // ("\"a red circle\", 64×64, 16 frames, 8 steps, seed 3"), kept with its points.
  void start(const QString& what, const QString& request);
  void showRunning(const QString& what);
  void addPoint(const SweepPoint& point);
  void finish(const QString& summary);
  void showMessage(const QString& message);
  // budgets() refused the list: the panel says why and puts the focus in the list.
  void refuseBudgets(const QString& why);

  const std::vector<SweepPoint>& points() const { return points_; }
  // The sweep started has no point yet: the points shown (if any) are the previous sweep's.
  bool awaitsFirstPoint() const { return replace_on_point_; }
  // The prompt and settings the points shown swept ("\"a red circle\", 64×64, …"); empty when unknown.
  const QString& pointsRequest() const { return request_; }
  int plottedPoints() const;
  void chooseRow(int row);  // as the user selecting a row and pressing "Use this budget"
  // Off during a run, as the settings are: the list shown is the one the sweep runs.
  void setBudgetsEnabled(bool enabled);
  // The budgets typed, and the points shown with the request they swept, so that a sweep (an hour of
  // a GPU's work on a Wan model) outlives the window.
  void save(QSettings& settings) const;
  void restore(const QSettings& settings);

 Q_SIGNALS:
  // The chosen point's sparse mode ("svg2" or "svgear") and top-p: the budget was measured in it.
  void budgetChosen(const QString& mode, double top_p);

 private:
  void replot();
  void placeLabels();

  void showPoint(const SweepPoint& point);  // its table row

  std::vector<SweepPoint> points_;
  QString request_;                // what the points shown swept
  QString starting_request_;       // the sweep started's, theirs at its first point
  bool replace_on_point_ = false;  // a sweep started: its first point replaces the points shown
  QLineEdit* budgets_;
  QLabel* status_;
  QCustomPlot* plot_;
  QCPGraph* graph_;
  QTableWidget* table_;
  QPushButton* use_;
};

}  // namespace svgear
