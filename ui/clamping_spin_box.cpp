#include "ui/clamping_spin_box.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include <QCoreApplication>
#include <QStringList>
#include <QToolTip>

namespace svgear {

namespace {

// What follows a leading minus sign: the locale's, or either a keyboard gives in every locale (sv's
// sign is U+2212); nothing without one.
std::optional<QString> after_minus(const QAbstractSpinBox* box, const QString& typed) {
  for (const QString& minus : {box->locale().negativeSign(), QString("-"), QString(QChar(0x2212))}) {
    if (typed.startsWith(minus)) return typed.mid(minus.size());
  }
  return std::nullopt;
}

// The text between `prefix` and `suffix`, as it is; nothing when `input` lacks either.
std::optional<QString> between(const QString& input, const QString& prefix, const QString& suffix) {
  if (!input.startsWith(prefix) || !input.endsWith(suffix) || input.size() < prefix.size() + suffix.size()) {
    return std::nullopt;
  }
  return input.mid(prefix.size(), input.size() - prefix.size() - suffix.size());
}

// A note under `box`, where the eye is: it goes at the next focus change or click.
void show_under(QAbstractSpinBox* box, const QString& note) {
  QToolTip::showText(box->mapToGlobal(QPoint(0, box->height())), note, box);
}

}  // namespace

QString typed_text(const QString& input, const QString& prefix, const QString& suffix) {
  QString typed = input;
  if (!prefix.isEmpty() && typed.startsWith(prefix)) typed.remove(0, prefix.size());
  if (!suffix.isEmpty() && typed.endsWith(suffix)) typed.chop(suffix.size());
  return typed.trimmed();
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

bool starts_a_number(const QAbstractSpinBox* box, const QString& input, const QString& prefix, const QString& suffix) {
  const QString typed = typed_text(input, prefix, suffix);
  // A digit after it makes a number of any start: "-" → "-0", "2." → "2.0", "1e" → "1e0".
  return !typed.isEmpty() && typed_number(box, typed + "0", QString(), QString()).has_value();
}

void read_either_decimal_mark(const QAbstractSpinBox* box, QString& input, const QString& prefix,
                              const QString& suffix) {
  std::optional<QString> typed = between(input, prefix, suffix);
  const QString own = box->locale().decimalPoint();
  const QString other = own == "." ? "," : ".";
  if (!typed || typed->contains(own) || typed->count(other) != 1) return;
  input = prefix + typed->replace(other, own) + suffix;
}

bool read_misgrouped_separator(const QAbstractSpinBox* box, QString& input, const QString& prefix,
                               const QString& suffix) {
  std::optional<QString> typed = between(input, prefix, suffix);
  const QString separator = box->locale().groupSeparator();
  if (!typed || typed->count(separator) != 1 || typed->contains(box->locale().decimalPoint())) return false;
  // Grouped: one to three digits, then three after the separator ("1,000", "-12,345").
  const std::optional<QString> unsigned_part = after_minus(box, typed->trimmed());
  const QStringList groups = (unsigned_part ? *unsigned_part : typed->trimmed()).split(separator);
  const auto digits = [](const QString& s) {
    return std::all_of(s.begin(), s.end(), [](QChar c) { return c.isDigit(); });
  };
  if (groups.size() == 2 && groups[0].size() >= 1 && groups[0].size() <= 3 && groups[1].size() == 3 &&
      digits(groups[0]) && digits(groups[1])) {
    return false;
  }
  input = prefix + typed->replace(separator, box->locale().decimalPoint()) + suffix;
  return true;
}

void note_refused(QAbstractSpinBox* box, const QString& typed) {
  if (!box->hasFocus()) return;  // only what a person types
  const QString note = QCoreApplication::translate("ClampingSpinBox", "'%1' is not a number").arg(typed);
  show_under(box, note);
}

QString note_rounded(QAbstractSpinBox* box, const QString& typed, const QString& set, bool whole) {
  const QString note =
      whole ? QCoreApplication::translate("ClampingSpinBox", "%1: this box takes whole numbers, set to %2")
                  .arg(typed, set)
            : QCoreApplication::translate("ClampingSpinBox", "%1 has more decimals than the box keeps: set to %2")
                  .arg(typed, set);
  show_under(box, note);
  return note;
}

QString note_not_a_number(QAbstractSpinBox* box, const QString& typed, const QString& kept) {
  const QString note = QCoreApplication::translate("ClampingSpinBox", "'%1' is not a number: %2 kept").arg(typed, kept);
  show_under(box, note);
  return note;
}

QString note_clamped(QAbstractSpinBox* box, const OutOfRange& typed, const QString& bound) {
  const QString note =
      typed.below ? QCoreApplication::translate("ClampingSpinBox", "%1 is below the smallest value, %2: set to %2")
                        .arg(typed.typed, bound)
                  : QCoreApplication::translate("ClampingSpinBox", "%1 is above the largest value, %2: set to %2")
                        .arg(typed.typed, bound);
  show_under(box, note);
  return note;
}

}  // namespace svgear
