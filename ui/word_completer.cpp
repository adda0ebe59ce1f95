#include "ui/word_completer.h"

#include <QAbstractItemView>
#include <QCompleter>
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

void WordCompleter::insertCompletion(const QString& word) {
  const QString prefix = prefixAtCursor();
  const int cursor = edit_->cursorPosition();
  QString text = edit_->text();
  text.replace(cursor - prefix.size(), prefix.size(), word + ' ');
  edit_->setText(text);
  edit_->setCursorPosition(cursor - prefix.size() + word.size() + 1);
}

}  // namespace svgear
