#pragma once
// UnknownWordsNote: under a prompt box, the words in it that the loaded model does not know, as they
// are typed ("Not among the model's words: 'dragon' (did you mean 'diamond'?)"). Generate had been
// the first to say so, once a prompt was written whole. Hidden while every word is known, and for an
// open-vocabulary model (Wan), which reads any word.

#include <string>
#include <vector>

#include <QLabel>
#include <QStringList>

class QLineEdit;

namespace svgear {

class UnknownWordsNote : public QLabel {
  Q_OBJECT

 public:
  UnknownWordsNote(QLineEdit* box, QWidget* parent);
  void setVocabulary(const QStringList& words);  // empty: any word is known

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;  // the box losing the keyboard

 private:
  void refresh();
  bool beginsAWord(const std::string& prefix) const;

  QLineEdit* box_;
  std::vector<std::string> vocabulary_;  // sorted
};

}  // namespace svgear
