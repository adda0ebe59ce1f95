#include "ui/word_completer.h"

#include <QAbstractItemView>
#include <QCompleter>
#include <QKeyEvent>
#include <QLineEdit>
#include <QStringListModel>

namespace svgear {
namespace {

// The characters VocabTextEncoder treats as part of a word.
bool is_word_char(QChar c) { return c.isLetterOrNumber() || c == '-' || c == '\''; }

}  // namespace

WordCompleter::WordCompleter(QLineEdit* edit)
    : QObject(edit), edit_(edit), words_(new QStringListModel(this)), completer_(new QCompleter(this)) {
  completer_->setModel(words_);
  completer_->setWidget(edit_);
  completer_->setCaseSensitivity(Qt::CaseInsensitive);
  completer_->setModelSorting(QCompleter::CaseInsensitivelySortedModel);
  completer_->setCompletionMode(QCompleter::PopupCompletion);
  connect(edit_, &QLineEdit::textEdited, this, [this] { onTextEdited(); });
  connect(completer_, qOverload<const QString&>(&QCompleter::activated), this,
          [this](const QString& word) { insertCompletion(word); });
  edit_->installEventFilter(this);
}

bool WordCompleter::eventFilter(QObject* watched, QEvent* event) {
  if (watched != edit_ || event->type() != QEvent::KeyPress) return false;
  const auto* key = static_cast<QKeyEvent*>(event);
  const bool swallowed = key->text() == " " && added_space_end_ == edit_->cursorPosition() && !edit_->hasSelectedText();
  added_space_end_ = -1;
  return swallowed;
}

void WordCompleter::setWords(QStringList words) {
  words.sort(Qt::CaseInsensitive);
  words.removeDuplicates();
  words_->setStringList(words);
  completer_->popup()->hide();
}

QString WordCompleter::prefixAtCursor() const {
  const QString text = edit_->text();
  int start = edit_->cursorPosition();
  while (start > 0 && is_word_char(text[start - 1])) --start;
  return text.mid(start, edit_->cursorPosition() - start);
}

void WordCompleter::onTextEdited() {
  if (inserting_) return;
  const QString prefix = prefixAtCursor();
  if (words_->rowCount() == 0 || prefix.isEmpty()) {
    completer_->popup()->hide();
    return;
  }
  completer_->setCompletionPrefix(prefix);
  const bool exact_only = completer_->completionCount() == 1 &&
                          completer_->currentCompletion().compare(prefix, Qt::CaseInsensitive) == 0;
  if (completer_->completionCount() == 0 || exact_only) {
    completer_->popup()->hide();
    return;
  }
  completer_->popup()->setCurrentIndex(completer_->completionModel()->index(0, 0));
  completer_->complete();
}

void WordCompleter::replaceText(const QString& text) {
  added_space_end_ = -1;  // the completion's space went with the text it ended
  inserting_ = true;
  edit_->selectAll();
  edit_->insert(text);  // not setText, which empties the undo stack
  inserting_ = false;
  completer_->popup()->hide();
}

void WordCompleter::insertCompletion(const QString& word) {
  // The whole word under the cursor is replaced: completing "tri|gle" gives "triangle", not
  // "triangle gle". A space follows the word unless one is already there.
  const QString text = edit_->text();
  const int cursor = edit_->cursorPosition();
  int start = cursor;
  while (start > 0 && is_word_char(text[start - 1])) --start;
  int end = cursor;
  while (end < text.size() && is_word_char(text[end])) ++end;
  const bool space_follows = end < text.size() && text[end].isSpace();
  inserting_ = true;  // insert() reports an edit, which must not open the popup again
  edit_->setSelection(start, end - start);
  edit_->insert(space_follows ? word : word + ' ');  // as one step of the edit's undo
  inserting_ = false;
  edit_->setCursorPosition(start + int(word.size()) + 1);
  added_space_end_ = space_follows ? -1 : edit_->cursorPosition();
}

}  // namespace svgear
