#pragma once
// PromptPanel: the prompt and negative prompt editors, completion over the model's vocabulary and
// the history of prompts generated (double-click one to reuse it).

#include <QStringList>
#include <QWidget>

class QLineEdit;
class QListWidget;
class QSettings;

namespace svgear {

class WordCompleter;

class PromptPanel : public QWidget {
  Q_OBJECT

 public:
  explicit PromptPanel(QWidget* parent);

  QString prompt() const;
  QString negativePrompt() const;
  void setPrompt(const QString& prompt);
  void setNegativePrompt(const QString& prompt);
  // Completion in both editors; an empty list (open-vocabulary model) turns it off.
  void setVocabulary(const QStringList& words);
  // Most recent first, without duplicates.
  void addToHistory(const QString& prompt);
  QStringList history() const;

  void save(QSettings& settings) const;
  void restore(const QSettings& settings);

 Q_SIGNALS:
  // Return in the prompt editor (with no completion popup open).
  void submitted();

 private:
  QLineEdit* prompt_;
  QLineEdit* negative_;
  QListWidget* history_;
  WordCompleter* prompt_words_;
  WordCompleter* negative_words_;
};

}  // namespace svgear
