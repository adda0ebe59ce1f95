#pragma once
// WordCompleter: completes the word under the cursor of a QLineEdit from a word list. QLineEdit's
// own completer completes the whole text, which does not help with prompts of several words.

#include <QObject>
#include <QStringList>

class QCompleter;
class QLineEdit;
class QStringListModel;

namespace svgear {

class WordCompleter : public QObject {
  Q_OBJECT

 public:
  explicit WordCompleter(QLineEdit* edit);  // parented to `edit`
  // An empty list turns completion off.
  void setWords(QStringList words);
  QCompleter* completer() const { return completer_; }

 private:
  QString prefixAtCursor() const;
  void onTextEdited();
  void insertCompletion(const QString& word);

  QLineEdit* edit_;
  QStringListModel* words_;
  QCompleter* completer_;
  bool inserting_ = false;
};

}  // namespace svgear
