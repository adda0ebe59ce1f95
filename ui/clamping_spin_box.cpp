#include "ui/clamping_spin_box.h"

#include <cmath>

#include <QCoreApplication>
#include <QToolTip>

namespace svgear {

std::optional<OutOfRange> number_out_of_range(const QAbstractSpinBox* box, const QString& input,
                                              const QString& prefix, const QString& suffix, double lo, double hi) {
  QString typed = input;
  if (!prefix.isEmpty() && typed.startsWith(prefix)) typed.remove(0, prefix.size());
  if (!suffix.isEmpty() && typed.endsWith(suffix)) typed.chop(suffix.size());
  typed = typed.trimmed();
  bool ok = false;
  const double value = box->locale().toDouble(typed, &ok);
  if (!ok || std::isnan(value) || (value >= lo && value <= hi)) return std::nullopt;
  return OutOfRange{typed, value < lo};
}

QString note_clamped(QAbstractSpinBox* box, const OutOfRange& typed, const QString& bound) {
  const QString note =
      typed.below ? QCoreApplication::translate("ClampingSpinBox", "%1 is below the smallest value, %2: set to %2")
                        .arg(typed.typed, bound)
                  : QCoreApplication::translate("ClampingSpinBox", "%1 is above the largest value, %2: set to %2")
                        .arg(typed.typed, bound);
  QToolTip::showText(box->mapToGlobal(QPoint(0, box->height())), note, box);
  return note;
}

}  // namespace svgear
