#pragma once
// LibraryPanel: the history of generations (core/library/generation_library.h) as thumbnails,
// newest first. Open (double-click, Enter) asks the window to reload an entry's settings and show
// its video; Delete removes the entry's folder (off the GUI thread); Show folder opens it in the
// file manager. The filter above the list (Ctrl+F) shows only the runs whose prompt, mode, model or
// seed hold every word typed.

#include <filesystem>
#include <set>
#include <vector>

#include <QImage>
#include <QWidget>

#include "core/library/generation_library.h"

class QFileSystemWatcher;
class QLabel;
class QLineEdit;
class QListWidget;
class QListWidgetItem;
class QPushButton;
class QTimer;

namespace svgear {

class LibraryPanel : public QWidget {
  Q_OBJECT

 public:
  LibraryPanel(std::filesystem::path root, QWidget* parent);
  const std::filesystem::path& root() const { return library_.root(); }

  // Reads the library folder on the thread pool (records and thumbnails: a library of thousands of
  // runs takes seconds) and lists it when read; listed() then. A later refresh supersedes it.
  void refresh();
  bool scanning() const { return scanning_; }
  void focusList();  // where View ▸ Library puts the keyboard
  // Lists a run just kept, in its place, without reading the whole library again (its thumbnail
  // shows once the thread pool has read it); one kept while a scan runs stays listed when the
  // scan's result arrives.
  void insert(const LibraryEntry& entry);
  // A listed run found without its clip when opened (deleted outside the studio meanwhile): its row
  // gets the mark and the tooltip a scan would give it, in place.
  void markClipGone(const std::filesystem::path& folder);
  // A listed run's record as an Open read it: a record edited outside the studio (which the folder
  // watch does not see) relabels its row and counts for the filter.
  void updateRecord(const LibraryEntry& read);
  int count() const;
  // The entry shown at `row` (0 = newest); throws std::out_of_range.
  const LibraryEntry& entry(int row) const { return entries_.at(size_t(row)); }
  void openRow(int row);
  // Off during a run, which a reload would replace: Open is disabled and says why (a double-click
  // still asks, and the window refuses with a message).
  void setOpenAllowed(bool allowed);

 Q_SIGNALS:
  void entryOpened(const std::filesystem::path& folder);  // the path itself: it need not be UTF-8
  void errorOccurred(const QString& message);
  void statusChanged(const QString& message);  // what the panel is doing, for the status line
  void listed();  // a refresh's result is shown

 private:
  struct Scanned;  // a scan's entries and their thumbnails, read off the GUI thread
  // The runs in `root` not in `known`, with their thumbnails and the damaged runs skipped; the
  // error instead when the folder cannot be listed. For the thread pool: it touches no panel.
  static Scanned scan(const std::filesystem::path& root, const std::set<std::filesystem::path>& known);
  void listScanned(Scanned scanned);
  // Asks, then takes the entry out of the library on the thread pool; its row goes when that is done,
  // greyed meanwhile (neither opened nor deleted again).
  void deleteSelected();
  bool isDeleting(const std::filesystem::path& folder) const;
  void setRowEnabled(int row, bool enabled);
  bool actsOn(int row) const;  // Open and Delete may act on `row`: listed, shown, not being deleted
  void updateButtons();        // Open and Delete on for a current row they act on; Open if allowed
  void dropHiddenCurrentRow();  // no current row rather than one the filter hides
  int rowOf(const std::filesystem::path& folder) const;  // -1: not listed
  void addRow(int row, const LibraryEntry& e, const QImage& thumbnail);
  void list(const LibraryEntry& entry, const QImage& thumbnail);  // in its place, newest first
  void unlist(const std::filesystem::path& folder);  // its row, wherever it is now; none: nothing
  void updateSummary();
  bool matchesFilter(const LibraryEntry& e) const;
  void applyFilter();  // hides the rows the filter's words leave out; a hidden current row is let go
  // What the library folder's watcher noticed changed outside the studio (a file manager, `rm`,
  // `mv`, a run copied in): rows whose folders went are dropped, runs not listed are added. Looked
  // up off the GUI thread.
  void syncWithFolder();
  QString caption(const LibraryEntry& e) const;  // a row's label: a line each, elided to the cell
  // Watches the library folder while it exists, and the nearest folder above it; true when another
  // folder (or none) has the library's name since the last call.
  bool watchRoot();
  std::filesystem::path watchedRoot() const;

  GenerationLibrary library_;
  std::vector<LibraryEntry> entries_;
  std::vector<LibraryEntry> inserted_during_scan_;
  std::vector<std::filesystem::path> deleted_during_scan_;
  std::vector<std::filesystem::path> deleting_;  // asked to be deleted, not yet out of the library
  bool scanning_ = false;
  bool open_allowed_ = true;
  QString scan_error_;  // the last scan's: shown in the summary until the next scan
  QStringList damaged_;  // the last scan's runs whose record does not read, with why
  QString write_problem_;  // why the last scan found runs could not be kept here (empty: they can)
  int scan_ = 0;  // the latest refresh's number: an older scan's result is dropped
  QFileSystemWatcher* root_watcher_;
  QString root_identity_;  // the library folder's device and inode when last watched; empty while it is gone
  QTimer* sync_timer_;  // a burst of changes (a folder of many files removed) is looked at once
  QLineEdit* filter_;
  QListWidget* list_;
  QLabel* summary_;
  QPushButton* open_;
  QPushButton* delete_;
  QPushButton* show_folder_;
};

}  // namespace svgear
