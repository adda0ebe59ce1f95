#pragma once
// LibraryPanel: the history of generations (core/library/generation_library.h) as thumbnails,
// newest first. Open (double-click, Enter) asks the window to reload an entry's settings and show
// its video; Delete removes the entry's folder; Show folder opens it in the file manager.

#include <filesystem>

#include <QByteArray>
#include <QHash>
#include <QIcon>
#include <QWidget>

#include "core/library/generation_library.h"

class QLabel;
class QListWidget;
class QListWidgetItem;
class QPushButton;

namespace svgear {

class LibraryPanel : public QWidget {
  Q_OBJECT

 public:
  LibraryPanel(std::filesystem::path root, QWidget* parent);

  // Re-reads the library folder. Thumbnails already shown are not decoded again.
  void refresh();
  // Lists a run just kept, in its place, without reading the whole library again (a library of
  // thousands of runs takes seconds to read, and this happens after every run).
  void insert(const LibraryEntry& entry);
  int count() const;
  // The entry shown at `row` (0 = newest); throws std::out_of_range.
  const LibraryEntry& entry(int row) const { return entries_.at(size_t(row)); }
  void openRow(int row);

 Q_SIGNALS:
  void entryOpened(const std::filesystem::path& folder);  // the path itself: it need not be UTF-8
  void errorOccurred(const QString& message);

 private:
  void deleteSelected();
  QListWidgetItem* makeItem(const LibraryEntry& e, QHash<QByteArray, QIcon>& fresh) const;
  void updateSummary();
  // The list's icon of a thumbnail file, from icons_ when already decoded; recorded in `fresh`.
  QIcon icon(const std::filesystem::path& thumbnail, QHash<QByteArray, QIcon>& fresh) const;

  GenerationLibrary library_;
  std::vector<LibraryEntry> entries_;
  QHash<QByteArray, QIcon> icons_;  // by thumbnail path and modification time
  QListWidget* list_;
  QLabel* summary_;
  QPushButton* open_;
  QPushButton* delete_;
  QPushButton* show_folder_;
};

}  // namespace svgear
