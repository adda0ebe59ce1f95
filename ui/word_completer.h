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
  // Replaces the edit's whole text as one step of its undo, completing nothing: a prompt picked
  // whole from a list ("… moves up") opened the list of up, up-left, up-right, and Return then
  // took a word instead of generating.
  void replaceText(const QString& text);

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;  // a space right after a completion

 private:
  QString prefixAtCursor() const;
  void onTextEdited();
  void insertCompletion(const QString& word);

  QLineEdit* edit_;
  QStringListModel* words_;
  QCompleter* completer_;
  bool inserting_ = false;
  // Where the cursor stood after a completion that added its own space (-1: none since): a space
  // typed there next is taken as that one, not a second ("triangle  over").
  int added_space_end_ = -1;
};

}  // namespace svgear
