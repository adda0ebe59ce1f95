#include "ui/clamping_spin_box.h"

#include <cmath>

#include <QCoreApplication>
#include <QToolTip>

namespace svgear {

namespace {

// The text between the box's prefix and suffix.
QString typed_text(const QString& input, const QString& prefix, const QString& suffix) {
  QString typed = input;
  if (!prefix.isEmpty() && typed.startsWith(prefix)) typed.remove(0, prefix.size());
  if (!suffix.isEmpty() && typed.endsWith(suffix)) typed.chop(suffix.size());
  return typed.trimmed();
}

}  // namespace

bool starts_a_negative_number(const QAbstractSpinBox* box, const QString& input, const QString& prefix,
                              const QString& suffix) {
  const QString typed = typed_text(input, prefix, suffix);
  const QString minus = box->locale().negativeSign();
  if (!typed.startsWith(minus)) return false;
  // "-", "-2", "-2." and "-0.3": what follows the sign is a number, or one once a digit follows.
  const QString rest = typed.mid(minus.size());
  bool ok = false;
  box->locale().toDouble(rest + "0", &ok);
  return rest.isEmpty() || ok;
}

std::optional<OutOfRange> number_out_of_range(const QAbstractSpinBox* box, const QString& input,
                                              const QString& prefix, const QString& suffix, double lo, double hi) {
  const QString typed = typed_text(input, prefix, suffix);
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
