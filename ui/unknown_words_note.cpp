#include "ui/unknown_words_note.h"

#include <algorithm>

#include <QEvent>
#include <QLineEdit>

#include "core/text/nearest_words.h"
#include "core/text/prompt_words.h"
#include "core/user_error.h"
#include "ui/bidi_controls.h"

namespace svgear {
namespace {

constexpr int kWordsNamed = 5;  // then "and N more": a pasted paragraph must not fill the panel

}  // namespace

UnknownWordsNote::UnknownWordsNote(QLineEdit* box, QWidget* parent) : QLabel(parent), box_(box) {
  setWordWrap(true);
  setTextFormat(Qt::PlainText);
  QPalette warm = palette();
  warm.setColor(QPalette::WindowText, QColor(235, 165, 80));  // a warning's, not the errors' red
  setPalette(warm);
  hide();
  connect(box_, &QLineEdit::textChanged, this, [this] { refresh(); });
  connect(box_, &QLineEdit::cursorPositionChanged, this, [this] { refresh(); });
  box_->installEventFilter(this);
}

void UnknownWordsNote::setVocabulary(const QStringList& words) {
  vocabulary_.clear();
  for (const QString& word : words) vocabulary_.push_back(word.toStdString());
  std::sort(vocabulary_.begin(), vocabulary_.end());
  refresh();
}

bool UnknownWordsNote::eventFilter(QObject* watched, QEvent* event) {
  if (watched == box_ && (event->type() == QEvent::FocusOut || event->type() == QEvent::FocusIn)) refresh();
  return QLabel::eventFilter(watched, event);
}

bool UnknownWordsNote::beginsAWord(const std::string& prefix) const {
  const auto next = std::lower_bound(vocabulary_.begin(), vocabulary_.end(), prefix);
  return next != vocabulary_.end() && next->compare(0, prefix.size(), prefix) == 0;
}

void UnknownWordsNote::refresh() {
  if (vocabulary_.empty()) {
    hide();
    return;
  }
  // The word the cursor ends, while the box has the keyboard, is still being typed ("tri" on its way
  // to "triangle"): it counts once no word of the model begins with it, or once it is left.
  std::string typing;
  if (box_->hasFocus()) {
    const std::string before = box_->text().left(box_->cursorPosition()).toStdString();
    const std::vector<std::string> words = split_prompt_words(before);
    if (!words.empty() && split_prompt_words(before + "x").size() == words.size()) typing = words.back();
  }
  std::vector<std::string> unknown;
  for (const std::string& word : split_prompt_words(box_->text().toStdString())) {
    if (std::binary_search(vocabulary_.begin(), vocabulary_.end(), word)) continue;
    if (word == typing && beginsAWord(word)) continue;
    if (std::find(unknown.begin(), unknown.end(), word) == unknown.end()) unknown.push_back(word);
  }
  if (unknown.empty()) {
    hide();
    return;
  }
  QStringList named;
  for (size_t i = 0; i < unknown.size() && i < size_t(kWordsNamed); ++i) {
    named << bidi_controls_shown(QString::fromStdString(quoted_word(unknown[i])));
  }
  if (unknown.size() > size_t(kWordsNamed)) named << tr("and %1 more").arg(unknown.size() - kWordsNamed);
  setText(tr("Not among the model's words: %1%2")
              .arg(named.join(", "), QString::fromStdString(did_you_mean(unknown, vocabulary_))));
  show();
}

}  // namespace svgear
