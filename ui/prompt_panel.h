#pragma once
// PromptPanel: the prompt and negative prompt editors, completion over the model's vocabulary,
// example prompts for the model (the Examples menu) and the history of prompts generated
// (double-click one to reuse it).

#include <QStringList>
#include <QWidget>

#include "ui/prompt_examples.h"

class QLineEdit;
class QListWidget;
class QMenu;
class QSettings;
class QToolButton;

namespace svgear {

class UnknownWordsNote;
class WordCompleter;

class PromptPanel : public QWidget {
  Q_OBJECT

 public:
  explicit PromptPanel(QWidget* parent);

  QString prompt() const;
  QString negativePrompt() const;
  void setPrompt(const QString& prompt);
  void focusPrompt();  // where a run asked for with no prompt sends the artist
  void setNegativePrompt(const QString& prompt);
  // Completion in both editors; an empty list (open-vocabulary model) turns it off.
  void setVocabulary(const QStringList& words);
  // What the Examples menu offers, asked each time it opens; an empty function (no model, or none
  // fits its words) turns the button off. Picking one replaces the prompt (Ctrl+Z undoes it).
  void setExamples(PromptExamples examples);
  // Most recent first, without duplicates.
  void addToHistory(const QString& prompt);
  QStringList history() const;
  void setHistory(const QStringList& prompts);  // as history() gave them
  // The entry in `row` goes (Delete, or the entry's right-click menu); Clear history asks first.
  void removeFromHistory(int row);
  void clearHistory();

  void save(QSettings& settings) const;
  void restore(const QSettings& settings);

 Q_SIGNALS:
  // Return in the prompt editor (with no completion popup open).
  void submitted();
  // The artist removed these prompts from the history.
  void historyRemoved(const QStringList& prompts);

 private:
  void replacePromptUndoably(const QString& prompt);
  QLineEdit* prompt_;
  QLineEdit* negative_;
  QListWidget* history_;
  QToolButton* examples_button_;
  QMenu* examples_menu_;
  PromptExamples examples_;
  WordCompleter* prompt_words_;
  WordCompleter* negative_words_;
  UnknownWordsNote* prompt_note_;
  UnknownWordsNote* negative_note_;
};

}  // namespace svgear
