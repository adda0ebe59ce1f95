#pragma once
// Spin boxes that take a typed number they cannot hold and set it to the nearest value they can,
// saying so under the box: past the range, a fraction in a whole-number box, more decimals than
// the box keeps. Qt's own refuse the keystroke or put the previous value back, without a word: a
// height of 1 typed into a box whose least is 8 left the last height there, and steps of 2.5 became
// 25. A decimal box reads either decimal mark as the locale's (4,5 is 4.5 in English), where Qt had
// read the comma as a thousands separator (45); a whole-number box keeps thousands separators
// ("1,000") but reads one that groups no thousands ("2,5", which Qt read as 25) as a decimal mark.
// A refused keystroke ("x") says why under the box.

#include <cmath>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include <QDoubleSpinBox>
#include <QSpinBox>

namespace svgear {

struct OutOfRange {
  QString typed;  // the number as typed, without the box's prefix and suffix
  bool below;     // under the least value, else past the most
};

// The text between the box's prefix and suffix, trimmed.
QString typed_text(const QString& input, const QString& prefix, const QString& suffix);

struct TypedNumber {
  QString typed;  // as typed, without the box's prefix and suffix
  double value;
};

// `input` (a spin box's text) when, its prefix and suffix taken off, it reads as a number in the
// box's locale, any minus sign read as the locale's.
std::optional<TypedNumber> typed_number(const QAbstractSpinBox* box, const QString& input, const QString& prefix,
                                        const QString& suffix);

// Whether `input` is a number or the start of one ("-", "2.", "1e"), in or out of the box's range,
// whole or not: Qt refuses such keystrokes (a sign where the least value is 0 or more, a decimal
// point in a whole-number box), and what was typed after them made another number without a word.
bool starts_a_number(const QAbstractSpinBox* box, const QString& input, const QString& prefix, const QString& suffix);

// `input` with the decimal mark the box's locale does not use ('.' or ',') read as the one it does,
// when it holds one of those and none of its own: for decimal boxes.
void read_either_decimal_mark(const QAbstractSpinBox* box, QString& input, const QString& prefix,
                              const QString& suffix);

// For whole-number boxes: a thousands separator that groups no thousands ("2,5", not "1,000") read as
// the decimal mark, when it is the only one and no decimal mark is there. Whether it was.
bool read_misgrouped_separator(const QAbstractSpinBox* box, QString& input, const QString& prefix,
                               const QString& suffix);

// "'4x' is not a number", under a box that has the keyboard, for a keystroke it refuses (`typed`:
// the text it would have made, without the prefix and suffix).
void note_refused(QAbstractSpinBox* box, const QString& typed);

// "1 is below the smallest value, 8: set to 8", shown under the box (gone again at the next focus
// change or click) and returned for a place that keeps it.
QString note_clamped(QAbstractSpinBox* box, const OutOfRange& typed, const QString& bound);

// "2.5: this box takes whole numbers, set to 3" (`whole`), "4.567 has more decimals than the box
// keeps: set to 4.57", shown and returned as note_clamped's.
QString note_rounded(QAbstractSpinBox* box, const QString& typed, const QString& set, bool whole);

// "'1e' is not a number: 5.00 kept", shown and returned as note_clamped's.
QString note_not_a_number(QAbstractSpinBox* box, const QString& typed, const QString& kept);

template <class Box>
class Clamping : public Box {
 public:
  using Value = decltype(std::declval<Box>().value());  // int or double
  explicit Clamping(QWidget* parent = nullptr) : Box(parent) {
    QObject::connect(this, &QAbstractSpinBox::editingFinished, this, [this] { committed_ = this->value(); });
  }
  // Where the note also goes: a box left by Tab or a click loses the tooltip at once.
  void setOnClamped(std::function<void(const QString&)> on_clamped) { on_clamped_ = std::move(on_clamped); }
  // The values the arrows step along: the multiples of the single step, shifted by `origin` (a Wan
  // model's frames: 1, 5, 9, … is a step of 4 from 1).
  void setStepOrigin(int origin) { origin_ = origin; }

 protected:
  void focusInEvent(QFocusEvent* event) override {
    committed_ = this->value();
    Box::focusInEvent(event);
  }
  QValidator::State validate(QString& input, int& pos) const override {
    if constexpr (std::is_same_v<Box, QDoubleSpinBox>) {
      read_either_decimal_mark(this, input, this->prefix(), this->suffix());
    } else {
      // "2,5" waits for fixup, as a fraction; "1,00" may yet become "1,000".
      QString as_decimal = input;
      if (read_misgrouped_separator(this, as_decimal, this->prefix(), this->suffix()) &&
          starts_a_number(this, as_decimal, this->prefix(), this->suffix())) {
        return QValidator::Intermediate;
      }
    }
    const QString typed = typed_text(input, this->prefix(), this->suffix());
    // Qt takes "1e9" in a decimal box for 1: a number with an exponent waits for fixup, which reads it whole.
    const bool exponent = typed.contains(this->locale().exponential(), Qt::CaseInsensitive);
    const QValidator::State state = exponent ? QValidator::Invalid : Box::validate(input, pos);
    if (state != QValidator::Invalid) return state;
    // Being typed: fixup sets what the box cannot hold to the nearest value it can, with the note.
    if (starts_a_number(this, input, this->prefix(), this->suffix())) return QValidator::Intermediate;
    // Not for the least value's word ("auto"), which Qt checks as it sets it, nor for a backspace into
    // the word or the suffix.
    const bool editing_words = (!this->specialValueText().isEmpty() && this->specialValueText().startsWith(typed)) ||
                               !input.startsWith(this->prefix()) || !input.endsWith(this->suffix());
    if (!editing_words) note_refused(const_cast<Clamping*>(this), typed);  // const in Qt
    return state;
  }
  // Qt calls fixup with text it cannot take, before it puts the previous value back: at Enter, when
  // the box loses the focus, at interpretText(), and at an arrow key or the wheel over pending text.
  void fixup(QString& input) const override {
    const QString written = typed_text(input, this->prefix(), this->suffix());  // as the notes quote it
    // QSpinBox's fixup drops every thousands separator: "2,5" was 25.
    if (!std::is_same_v<Box, QSpinBox> || !read_misgrouped_separator(this, input, this->prefix(), this->suffix())) {
      Box::fixup(input);
    }
    auto* self = const_cast<Clamping*>(this);  // fixup is const in Qt
    const std::optional<TypedNumber> number = typed_number(this, input, this->prefix(), this->suffix());
    if (!number) {
      // The start of a number that never became one ("-", "1e"): the value before the typing stays
      // (keyboard tracking had taken the "1" of "1e"), said so.
      if (input != this->specialValueText() && starts_a_number(this, input, this->prefix(), this->suffix())) {
        const auto kept = this->hasFocus() ? committed_ : this->value();
        input = shownText(kept);
        say(note_not_a_number(self, written, typed_text(input, this->prefix(), this->suffix())));
      }
      return;
    }
    // A fraction in a whole-number box (2.5 → 3, -2.5 → -3) or more decimals than the box keeps
    // (textFromValue rounds them): the nearest value it holds.
    constexpr bool whole = std::is_same_v<Box, QSpinBox>;
    const double wanted = whole ? std::round(number->value) : number->value;
    if (wanted >= this->minimum() && wanted <= this->maximum()) {
      // "-0": in range once its sign is read, but Qt refused the sign and put the previous value back.
      // -0.0 as 0, which a double box would show as "-0.00".
      const Value held = number->value == 0 ? Value(0) : this->valueFromText(this->textFromValue(Value(wanted)));
      input = shownText(held);
      // "2.0" is said too: a decimal mark in a whole-number box.
      const bool fraction = whole && number->typed.contains(this->locale().decimalPoint());
      if (number->value != 0 && (held != number->value || fraction)) {
        say(note_rounded(self, written, typed_text(input, this->prefix(), this->suffix()), whole));
      }
      return;
    }
    const OutOfRange typed{written, number->value < this->minimum()};
    // The least value may show as a word ("auto" for the query clusters' 0).
    const QString bound = typed.below && !this->specialValueText().isEmpty()
                              ? this->specialValueText()
                              : this->textFromValue(typed.below ? this->minimum() : this->maximum());
    input = bound == this->specialValueText() ? bound : this->prefix() + bound + this->suffix();
    say(note_clamped(self, typed, bound));
  }
  // The arrows, PgUp/PgDn and the wheel step along the grid, also from a typed value between its
  // values: a width of 30 with a step of 16 (a Wan model's) goes up to 32 (Qt's 46 was no size
  // either) and down to 16.
  void stepBy(int steps) override {
    struct Committed {  // whichever way the step ends
      Clamping* box;
      ~Committed() { box->committed_ = box->value(); }
    } committed{this};
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
  Value committed_{};  // at the focus, an Enter, an arrow
  // The box's text for `value`: the least value may show as a word ("auto" for the query clusters' 0).
  QString shownText(Value value) const {
    if (value == this->minimum() && !this->specialValueText().isEmpty()) return this->specialValueText();
    return this->prefix() + this->textFromValue(value) + this->suffix();
  }
  void say(const QString& note) const {
    if (on_clamped_) on_clamped_(note);
  }
  bool outside(const QString& input) const {
    const std::optional<TypedNumber> number = typed_number(this, input, this->prefix(), this->suffix());
    return number && (number->value < this->minimum() || number->value > this->maximum());
  }
};

using ClampingSpinBox = Clamping<QSpinBox>;
using ClampingDoubleSpinBox = Clamping<QDoubleSpinBox>;

}  // namespace svgear
