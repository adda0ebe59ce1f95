#include "ui/clamping_spin_box.h"

#include <cmath>
#include <optional>

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

// What follows a leading minus sign: the locale's, or either a keyboard gives in every locale (sv's
// sign is U+2212); nothing without one.
std::optional<QString> after_minus(const QAbstractSpinBox* box, const QString& typed) {
  for (const QString& minus : {box->locale().negativeSign(), QString("-"), QString(QChar(0x2212))}) {
    if (typed.startsWith(minus)) return typed.mid(minus.size());
  }
  return std::nullopt;
}

}  // namespace

bool starts_a_negative_number(const QAbstractSpinBox* box, const QString& input, const QString& prefix,
                              const QString& suffix) {
  const std::optional<QString> rest = after_minus(box, typed_text(input, prefix, suffix));
  if (!rest) return false;
  if (rest->isEmpty()) return true;
  // "-2", "-2." and "-.3": digits or the decimal point next, and a number once a digit follows.
  if (!rest->front().isDigit() && rest->front() != box->locale().decimalPoint().front()) return false;
  bool ok = false;
  box->locale().toDouble(*rest + "0", &ok);
  return ok;
}

std::optional<TypedNumber> typed_number(const QAbstractSpinBox* box, const QString& input, const QString& prefix,
                                        const QString& suffix) {
  const QString typed = typed_text(input, prefix, suffix);
  const std::optional<QString> rest = after_minus(box, typed);
  const QString number = rest ? box->locale().negativeSign() + *rest : typed;
  bool ok = false;
  const double value = box->locale().toDouble(number, &ok);
  if (!ok || std::isnan(value)) return std::nullopt;
  return TypedNumber{typed, value};
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
