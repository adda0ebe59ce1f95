#pragma once
// Spin boxes that take a typed number past their range and set it to the nearest bound, saying so
// under the box. Qt's own refuse the keystroke past the most and put the previous value back for
// one below the least, both without a word: a height of 1 typed into a box whose least is 8 left
// the last height there.

#include <functional>
#include <optional>
#include <type_traits>

#include <QDoubleSpinBox>
#include <QSpinBox>

namespace svgear {

struct OutOfRange {
  QString typed;  // the number as typed, without the box's prefix and suffix
  bool below;     // under the least value, else past the most
};

struct TypedNumber {
  QString typed;  // as typed, without the box's prefix and suffix
  double value;
};

// `input` (a spin box's text) when, its prefix and suffix taken off, it reads as a number in the
// box's locale, any minus sign read as the locale's.
std::optional<TypedNumber> typed_number(const QAbstractSpinBox* box, const QString& input, const QString& prefix,
                                        const QString& suffix);

// Whether `input` is a minus sign and the start of a number after it ("-", "-2."): Qt refuses the
// sign where the least value is 0 or more, and the digits typed after it made a positive number
// without a word (a guidance of -2.5 read 2.5).
bool starts_a_negative_number(const QAbstractSpinBox* box, const QString& input, const QString& prefix,
                              const QString& suffix);

// "1 is below the smallest value, 8: set to 8", shown under the box (gone again at the next focus
// change or click) and returned for a place that keeps it.
QString note_clamped(QAbstractSpinBox* box, const OutOfRange& typed, const QString& bound);

template <class Box>
class Clamping : public Box {
 public:
  using Box::Box;
  // Where the note also goes: a box left by Tab or a click loses the tooltip at once.
  void setOnClamped(std::function<void(const QString&)> on_clamped) { on_clamped_ = std::move(on_clamped); }
  // The values the arrows step along: the multiples of the single step, shifted by `origin` (a Wan
  // model's frames: 1, 5, 9, … is a step of 4 from 1).
  void setStepOrigin(int origin) { origin_ = origin; }

 protected:
  QValidator::State validate(QString& input, int& pos) const override {
    const QValidator::State state = Box::validate(input, pos);
    if (state != QValidator::Invalid) return state;
    // Being typed: fixup clamps a number below the least to it, with the note.
    return outside(input) || (this->minimum() >= 0 &&
                              starts_a_negative_number(this, input, this->prefix(), this->suffix()))
               ? QValidator::Intermediate
               : state;
  }
  // Qt calls fixup with text it cannot take, before it puts the previous value back: at Enter, when
  // the box loses the focus, at interpretText(), and at an arrow key or the wheel over pending text.
  void fixup(QString& input) const override {
    Box::fixup(input);
    const std::optional<TypedNumber> number = typed_number(this, input, this->prefix(), this->suffix());
    if (!number) return;
    if (number->value >= this->minimum() && number->value <= this->maximum()) {
      // "-0": in range once its sign is read, but Qt refused the sign and put the previous value back.
      // -0.0 as 0, which a double box would show as "-0.00".
      const auto value = static_cast<decltype(this->value())>(number->value == 0 ? 0 : number->value);
      input = this->prefix() + this->textFromValue(value) + this->suffix();
      return;
    }
    const OutOfRange typed{number->typed, number->value < this->minimum()};
    // The least value may show as a word ("auto" for the query clusters' 0).
    const QString bound = typed.below && !this->specialValueText().isEmpty()
                              ? this->specialValueText()
                              : this->textFromValue(typed.below ? this->minimum() : this->maximum());
    input = bound == this->specialValueText() ? bound : this->prefix() + bound + this->suffix();
    const QString note = note_clamped(const_cast<Clamping*>(this), typed, bound);  // fixup is const in Qt
    if (on_clamped_) on_clamped_(note);
  }
  // The arrows, PgUp/PgDn and the wheel step along the grid, also from a typed value between its
  // values: a width of 30 with a step of 16 (a Wan model's) goes up to 32 (Qt's 46 was no size
  // either) and down to 16.
  void stepBy(int steps) override {
    // A typed number out of range is clamped to its bound, and that is the step: 7 then Up in a box
    // from 16 shows 16 (stepping on from the clamp had given 32, skipping the least value).
    const bool out_of_range = outside(this->text());
    this->interpretText();  // a number still being typed is the one to step from
    if (out_of_range) {
      this->selectAll();
      return;
    }
    if constexpr (std::is_same_v<Box, QSpinBox>) {
      const int step = this->singleStep();
      const int off_grid = (((this->value() - origin_) % step) + step) % step;
      if (step > 1 && off_grid != 0 && steps != 0) {
        const int below = this->value() - off_grid;
        this->setValue(steps > 0 ? below + steps * step : below + (steps + 1) * step);
        this->selectAll();
        return;
      }
    }
    Box::stepBy(steps);
  }

 private:
  std::function<void(const QString&)> on_clamped_;
  int origin_ = 0;
  bool outside(const QString& input) const {
    const std::optional<TypedNumber> number = typed_number(this, input, this->prefix(), this->suffix());
    return number && (number->value < this->minimum() || number->value > this->maximum());
  }
};

using ClampingSpinBox = Clamping<QSpinBox>;
using ClampingDoubleSpinBox = Clamping<QDoubleSpinBox>;

}  // namespace svgear
