#include "ui/prompt_panel.h"

#include <limits>

#include <QAbstractItemView>
#include <QCompleter>
#include <QGuiApplication>
#include <QLabel>
#include <QLineEdit>
#include <QHBoxLayout>
#include <QListWidget>
#include <QMenu>
#include <QMessageBox>
#include <QSettings>
#include <QShortcut>
#include <QStyledItemDelegate>
#include <QToolButton>
#include <QVBoxLayout>

#include "ui/bidi_controls.h"
#include "ui/unknown_words_note.h"
#include "ui/word_completer.h"

namespace svgear {
namespace {

constexpr int kHistoryLength = 50;

// The row shows the prompt's bidirectional controls as codes; the prompt itself, which a double
// click puts back, is the item's data.
// Rows as wide as the list and no wider (a row as wide as its text made the list scroll sideways),
// the style's height: the list view elides what a row does not hold.
class ListWideRows : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override {
    return {1, QStyledItemDelegate::sizeHint(option, index).height()};
  }
};

QListWidgetItem* history_item(const QString& prompt) {
  auto* item = new QListWidgetItem(bidi_controls_shown(prompt).simplified());  // one line
  item->setData(Qt::UserRole, prompt);
  // Rich text, which a tooltip wraps: the prompt's own markup ("a <b>red</b> circle") and spaces
  // shown as typed.
  item->setToolTip("<p style='white-space:pre-wrap'>" + bidi_controls_shown(prompt).toHtmlEscaped() + "</p>");
  return item;
}

}  // namespace

PromptPanel::PromptPanel(QWidget* parent)
    : QWidget(parent),
      prompt_(new QLineEdit(this)),
      negative_(new QLineEdit(this)),
      history_(new QListWidget(this)),
      examples_button_(new QToolButton(this)),
      examples_menu_(new QMenu(this)),
      prompt_words_(new WordCompleter(prompt_)),
      negative_words_(new WordCompleter(negative_)),
      prompt_note_(new UnknownWordsNote(prompt_, this)),
      negative_note_(new UnknownWordsNote(negative_, this)) {
  prompt_note_->setObjectName("prompt_unknown_words");
  negative_note_->setObjectName("negative_prompt_unknown_words");
  prompt_->setObjectName("prompt");
  // Reads as a hint, not as a prompt already typed: Generate on an empty box asks for one.
  prompt_->setPlaceholderText(tr("describe the video, e.g. a red circle moves left over a blue sky"));
  prompt_->setToolTip(tr("What the video should show. Ctrl+Enter generates."));
  prompt_->setClearButtonEnabled(true);
  negative_->setObjectName("negative_prompt");
  negative_->setPlaceholderText(tr("the model's default"));
  negative_->setToolTip(tr("What the video should avoid (the unconditional branch of guidance)."));
  negative_->setClearButtonEnabled(true);
  // QLineEdit cuts what is typed or pasted at 32,767 characters without a word; a prompt is taken
  // whole, and the encoder says what it reads of it (too many words, or how many tokens it keeps).
  for (QLineEdit* edit : {prompt_, negative_}) edit->setMaxLength(std::numeric_limits<int>::max());
  history_->setObjectName("prompt_history");
  history_->setToolTip(
      tr("Prompts generated before; double-click one to use it again. Delete removes one; the right-click "
         "menu also clears them all."));
  history_->setContextMenuPolicy(Qt::CustomContextMenu);
  // No panel scrolls sideways: a long prompt (a Wan example's hundred words) is elided to the list's
  // width, whole in its row's tooltip, where it had put a scroll bar under a list of three rows.
  history_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  history_->setItemDelegate(new ListWideRows(history_));
  // Two rows at the least, where Qt's list keeps five: the panel had set the window's least height.
  history_->setMinimumHeight(2 * fontMetrics().lineSpacing() + 2 * history_->frameWidth() + 6);

  examples_button_->setObjectName("prompt_examples");
  examples_button_->setText(tr("Examples"));
  examples_button_->setPopupMode(QToolButton::InstantPopup);
  examples_button_->setMenu(examples_menu_);
  examples_menu_->setObjectName("prompt_examples_menu");
  setExamples({});

  auto* layout = new QVBoxLayout(this);
  auto* prompt_row = new QHBoxLayout;
  // Each label names its box for screen readers and puts the focus in it with Alt and its letter.
  const auto label_for = [this](const QString& text, QWidget* box) {
    auto* label = new QLabel(text, this);
    label->setBuddy(box);
    return label;
  };
  prompt_row->addWidget(label_for(tr("P&rompt"), prompt_), 1);
  prompt_row->addWidget(examples_button_);
  layout->addLayout(prompt_row);
  layout->addWidget(prompt_);
  layout->addWidget(prompt_note_);
  layout->addWidget(label_for(tr("&Negative prompt"), negative_));
  layout->addWidget(negative_);
  layout->addWidget(negative_note_);
  layout->addWidget(label_for(tr("Hi&story"), history_));
  layout->addWidget(history_, 1);
  // Tab follows the panel down, from the Examples button above the prompt (creation order put it last).
  setTabOrder(examples_button_, prompt_);
  setTabOrder(prompt_, negative_);
  setTabOrder(negative_, history_);

  // Return while the completion list is open picks a word: the line edit sees the key first (the
  // completer filters its events) and would otherwise also start a run with the half-typed word.
  connect(prompt_, &QLineEdit::returnPressed, this, [this] {
    // Ctrl+Shift+Enter is Compare's: it reaches the prompt only while Compare is off (the compare
    // cache being cleared), and then must not start a Generate instead.
    const Qt::KeyboardModifiers compare_keys = Qt::ControlModifier | Qt::ShiftModifier;
    if ((QGuiApplication::keyboardModifiers() & compare_keys) == compare_keys) return;
    if (!prompt_words_->completer()->popup()->isVisible()) Q_EMIT submitted();
  });
  connect(history_, &QListWidget::itemActivated, this,
          [this](QListWidgetItem* item) { replacePromptUndoably(item->data(Qt::UserRole).toString()); });
  auto* remove_key = new QShortcut(QKeySequence::Delete, history_, nullptr, nullptr, Qt::WidgetShortcut);
  connect(remove_key, &QShortcut::activated, this, [this] { removeFromHistory(history_->currentRow()); });
  connect(history_, &QListWidget::customContextMenuRequested, this, [this](const QPoint& at) {
    QMenu menu(this);
    // By its text: a run that fails while the menu is open resets the history, items and all.
    if (const QListWidgetItem* item = history_->itemAt(at)) {
      const QString prompt = item->data(Qt::UserRole).toString();
      menu.addAction(tr("Use this prompt"), this, [this, prompt] { replacePromptUndoably(prompt); });
      menu.addAction(tr("Remove from history"), this, [this, prompt] {
            const QStringList prompts = history();
            removeFromHistory(int(prompts.indexOf(prompt)));
          })->setShortcut(QKeySequence::Delete);
      menu.addSeparator();
    }
    menu.addAction(tr("Clear history…"), this, [this] { clearHistory(); })->setEnabled(history_->count() > 0);
    menu.exec(history_->viewport()->mapToGlobal(at));
  });
  connect(examples_menu_, &QMenu::aboutToShow, this, [this] {
    examples_menu_->clear();
    const QStringList prompts = examples_ ? examples_() : QStringList();
    for (const QString& prompt : prompts) {
      examples_menu_->addAction(prompt, this, [this, prompt] { replacePromptUndoably(prompt); });
    }
    if (prompts.isEmpty()) examples_menu_->addAction(tr("No example fits this model's words"))->setEnabled(false);
  });
}

void PromptPanel::setExamples(PromptExamples examples) {
  examples_ = std::move(examples);
  examples_button_->setEnabled(bool(examples_));
  examples_button_->setToolTip(examples_ ? tr("Prompts to start from, for this model: pick one to replace the prompt "
                                              "(Ctrl+Z in the prompt brings yours back)")
                                         : tr("Examples come with a loaded model whose words can spell them"));
}

QString PromptPanel::prompt() const { return prompt_->text(); }
QString PromptPanel::negativePrompt() const { return negative_->text(); }

// Through the editor's own edit, not setText: the text it replaces stays on its undo stack, so an
// example, a history entry or a library run picked over a prompt being written loses nothing (Ctrl+Z).
void PromptPanel::focusPrompt() { prompt_->setFocus(Qt::OtherFocusReason); }

void PromptPanel::setPrompt(const QString& prompt) { prompt_words_->replaceText(prompt); }
void PromptPanel::setNegativePrompt(const QString& prompt) { negative_words_->replaceText(prompt); }

void PromptPanel::replacePromptUndoably(const QString& prompt) {
  setPrompt(prompt);
  prompt_->setFocus();
}

void PromptPanel::setVocabulary(const QStringList& words) {
  prompt_words_->setWords(words);
  negative_words_->setWords(words);
  prompt_note_->setVocabulary(words);
  negative_note_->setVocabulary(words);
}

void PromptPanel::addToHistory(const QString& prompt) {
  for (int i = history_->count() - 1; i >= 0; --i) {
    if (history_->item(i)->data(Qt::UserRole).toString() == prompt) delete history_->takeItem(i);
  }
  history_->insertItem(0, history_item(prompt));
  while (history_->count() > kHistoryLength) delete history_->takeItem(history_->count() - 1);
}

QStringList PromptPanel::history() const {
  QStringList out;
  for (int i = 0; i < history_->count(); ++i) out << history_->item(i)->data(Qt::UserRole).toString();
  return out;
}

void PromptPanel::removeFromHistory(int row) {
  QListWidgetItem* item = history_->item(row);
  if (!item) return;
  const QString prompt = item->data(Qt::UserRole).toString();
  delete history_->takeItem(row);
  Q_EMIT historyRemoved({prompt});
}

void PromptPanel::clearHistory() {
  if (history_->count() == 0) return;
  const QString question =
      history_->count() == 1
          ? tr("Remove the one prompt from the history? The prompt boxes and the library keep theirs.")
          : tr("Remove all %1 prompts from the history? The prompt boxes and the library keep theirs.")
                .arg(history_->count());
  if (QMessageBox::question(this, tr("Clear history"), question, QMessageBox::Yes | QMessageBox::No,
                            QMessageBox::No) != QMessageBox::Yes) {
    return;
  }
  const QStringList removed = history();
  history_->clear();
  Q_EMIT historyRemoved(removed);
}

void PromptPanel::setHistory(const QStringList& prompts) {
  history_->clear();
  for (const QString& prompt : prompts.mid(0, kHistoryLength)) {  // a hand-edited settings file's too
    history_->addItem(history_item(prompt));
  }
}

void PromptPanel::save(QSettings& settings) const {
  settings.setValue("prompt/text", prompt_->text());
  settings.setValue("prompt/negative", negative_->text());
  settings.setValue("prompt/history", history());
}

void PromptPanel::restore(const QSettings& settings) {
  prompt_->setText(settings.value("prompt/text").toString());
  negative_->setText(settings.value("prompt/negative").toString());
  setHistory(settings.value("prompt/history").toStringList());
}

}  // namespace svgear
