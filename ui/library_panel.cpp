#include "ui/library_panel.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include <sys/stat.h>

#include <QDate>
#include <QDateTime>
#include <QDesktopServices>
#include <QFile>
#include <QFileSystemWatcher>
#include <QFontMetrics>
#include <QFontMetricsF>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QLocale>
#include <QMessageBox>
#include <QPainter>
#include <QPen>
#include <QPixmap>
#include <QPromise>
#include <QPushButton>
#include <QShortcut>
#include <QTextBoundaryFinder>
#include <QTime>
#include <QTimer>
#include <QUrl>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include "ui/bidi_controls.h"
#include "ui/counted.h"
#include "ui/local_time.h"

namespace svgear {
namespace {

constexpr int kThumbnailSide = 96;
// The library writes thumbnails of a few kilobytes; a file far larger (a link to a video, say) is
// not read whole at every start.
constexpr std::uintmax_t kMaxThumbnailBytes = 4 << 20;
// A prompt in a dialog: long ones are cut so the dialog stays on the screen.
constexpr int kDialogPromptLength = 200;
// A cell of the list: the thumbnail over a label of the prompt, the mode, the seed and the time
// (which tell runs of one prompt apart, also the runs of one seed that Open makes), a line each,
// each elided to the caption's width. Qt does not wrap them (it wrapped at the thumbnail's width,
// and a wrapped prompt pushed the seed out of the cell), so an item is as wide as its widest line,
// which the cell holds with Qt's text margins.
constexpr int kCellMargins = 10;
constexpr int kCaptionLines = 4;
// The widest seed (seeds have 32 bits) and a wide time (two-digit month, day and hour) fit whole in
// the list's font. Rounded up, and a pixel more: elidedText measures in fractions of a pixel, and at
// 13 pt it cut a seed of the same width.
int caption_width(const QFont& font) {
  const QFontMetricsF metrics(font);
  const double seed = metrics.horizontalAdvance(QStringLiteral("seed 4294967295"));
  const QDateTime wide(QDate(2026, 12, 28), QTime(22, 58, 58));  // local: a 12-hour clock's "10:58 PM"
  const double time = metrics.horizontalAdvance(QLocale().toString(wide, QLocale::ShortFormat));
  return std::max(kThumbnailSide + 14, int(std::ceil(std::max(seed, time))) + 1);
}

// `text` in at most `length` UTF-16 units, an ellipsis ending a cut one. The cut falls between
// graphemes, so an emoji (a surrogate pair, or several joined) or an accent is never split.
QString shortened(const QString& text, int length) {
  if (text.size() <= length) return text;
  QTextBoundaryFinder graphemes(QTextBoundaryFinder::Grapheme, text);
  graphemes.setPosition(length - 1);  // room for the ellipsis
  if (!graphemes.isAtBoundary()) graphemes.toPreviousBoundary();
  return text.left(std::max<qsizetype>(graphemes.position(), 0)) + "…";
}

// The name the Model panel lists the run's model by; empty for a record that names no folder.
std::string model_folder_name(const LibraryEntry& e) {
  return std::filesystem::path(e.model_folder).filename().string();
}

QString tooltip(const LibraryEntry& e) {
  // One multi-argument arg(): chained ones would read a "%1" in the prompt as a place for the next value.
  const QString size = QObject::tr("%1×%2, %3, %4")
                           .arg(e.width)
                           .arg(e.height)
                           .arg(counted(e.frames, QObject::tr("frame"), QObject::tr("frames")),
                                counted(e.steps, QObject::tr("step"), QObject::tr("steps")));
  const QString model = e.model_folder.empty()
                            ? QString::fromStdString(e.model)
                            : QObject::tr("%1 in %2").arg(QString::fromStdString(e.model),
                                                           QString::fromStdString(e.model_folder));
  QString text = QObject::tr("%1\nmodel %2, %3 attention, seed %4\n%5\n%6")
                     .arg(bidi_controls_shown(QString::fromStdString(e.prompt)), bidi_controls_shown(model),
                          QString::fromStdString(e.attention), QString::number(qulonglong(e.seed)), size,
                          local_time_text(e.created));
  if (e.clip_gone()) text += QObject::tr("\nIts video is gone (deleted outside the studio): Open reloads its settings");
  // As rich text with the prompt escaped: a tooltip guesses its format, and "a <b>red</b> circle"
  // would turn bold.
  return "<p style='white-space:pre-wrap'>" + text.toHtmlEscaped() + "</p>";
}

// A clear square of a thumbnail's size: every cell's icon is one, so every caption sits in line
// (without an icon it had risen to the cell's top).
QImage clear_square() {
  QImage square(kThumbnailSide, kThumbnailSide, QImage::Format_ARGB32_Premultiplied);
  square.fill(Qt::transparent);
  return square;
}

// What a run whose thumbnail is missing or unreadable shows: an empty frame.
QImage missing_thumbnail() {
  QImage square = clear_square();
  QPainter painter(&square);
  painter.setPen(QPen(QColor(110, 110, 110), 2, Qt::DashLine));
  painter.setBrush(QColor(40, 40, 40));
  painter.drawRect(QRectF(square.rect()).adjusted(8, 8, -8, -8));
  return square;
}

// A run whose video and frames are gone: its thumbnail under a band that says so.
QImage marked_gone(QImage thumbnail) {
  QPainter painter(&thumbnail);
  const QRect band(0, kThumbnailSide - 24, kThumbnailSide, 24);
  painter.fillRect(band, QColor(150, 40, 40, 220));
  painter.setPen(Qt::white);
  painter.drawText(band, Qt::AlignCenter, QObject::tr("video gone"));
  return thumbnail;
}

// A thumbnail file as the list shows it; safe off the GUI thread (QImage, not QPixmap).
// missing_thumbnail() when unreadable, or not a regular file (a FIFO would block).
QImage thumbnail_image(const std::filesystem::path& thumbnail) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(thumbnail, ec)) return missing_thumbnail();
  const std::uintmax_t size = std::filesystem::file_size(thumbnail, ec);
  if (ec || size > kMaxThumbnailBytes) return missing_thumbnail();
  std::ifstream in(thumbnail, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  QImage image;
  image.loadFromData(reinterpret_cast<const uchar*>(bytes.data()), int(bytes.size()), "PNG");
  if (image.isNull()) return missing_thumbnail();
  // Pixel models make tiny frames: magnify without smoothing, as the preview does. Centred on a
  // clear square, so a wide or tall clip's caption sits where every other one does.
  const QImage scaled = image.scaled(kThumbnailSide, kThumbnailSide, Qt::KeepAspectRatio, Qt::FastTransformation);
  QImage square = clear_square();
  QPainter(&square).drawImage((kThumbnailSide - scaled.width()) / 2, (kThumbnailSide - scaled.height()) / 2, scaled);
  return square;
}

}  // namespace

struct LibraryPanel::Scanned {
  std::vector<LibraryEntry> entries;
  std::vector<QImage> thumbnails;  // one per entry (null when unreadable)
  QString error;                   // why the folder could not be listed
  QStringList damaged;             // runs skipped for a record that does not read, with why
  QString write_problem;           // GenerationLibrary::write_problem
};

LibraryPanel::Scanned LibraryPanel::scan(const std::filesystem::path& root,
                                         const std::set<std::filesystem::path>& known) {
  Scanned scanned;
  scanned.write_problem = QString::fromStdString(GenerationLibrary(root).write_problem());
  try {
    std::vector<std::string> damaged;
    scanned.entries = GenerationLibrary(root).entries(known, &damaged);
    for (const std::string& why : damaged) scanned.damaged << QString::fromStdString(why);
    for (const LibraryEntry& e : scanned.entries) scanned.thumbnails.push_back(thumbnail_image(e.thumbnail));
  } catch (const std::exception& e) {  // thrown out of a thread-pool task, it would end the studio
    scanned.entries.clear();
    scanned.thumbnails.clear();
    scanned.damaged.clear();
    scanned.error = QString::fromStdString(e.what());
  }
  return scanned;
}

LibraryPanel::LibraryPanel(std::filesystem::path root, QWidget* parent)
    : QWidget(parent),
      library_(std::move(root)),
      root_watcher_(new QFileSystemWatcher(this)),
      sync_timer_(new QTimer(this)),
      filter_(new QLineEdit(this)),
      list_(new QListWidget(this)),
      summary_(new QLabel(this)),
      open_(new QPushButton(tr("Open"), this)),
      delete_(new QPushButton(tr("Delete"), this)),
      show_folder_(new QPushButton(tr("Show folder"), this)) {
  filter_->setObjectName("library_filter");
  filter_->setPlaceholderText(tr("Filter: words of the prompt, mode, model (or its folder) or seed"));
  filter_->setClearButtonEnabled(true);
  filter_->setToolTip(tr("Shows the runs that hold every word typed (Ctrl+F)"));
  list_->setObjectName("library_list");
  list_->setViewMode(QListView::IconMode);
  list_->setIconSize(QSize(kThumbnailSide, kThumbnailSide));
  list_->setResizeMode(QListView::Adjust);
  list_->setMovement(QListView::Static);
  list_->setWordWrap(false);
  list_->setGridSize(QSize(caption_width(list_->font()) + kCellMargins,
                           kThumbnailSide + 4 + kCaptionLines * list_->fontMetrics().lineSpacing()));
  summary_->setObjectName("library_summary");
  summary_->setTextFormat(Qt::PlainText);  // the folder's name is not markup
  open_->setObjectName("library_open");
  setOpenAllowed(true);  // its tooltip
  delete_->setObjectName("library_delete");
  show_folder_->setObjectName("library_show_folder");
  delete_->setToolTip(tr("Delete this run's folder from the library (Delete)"));

  // The filter and the buttons share one row: in the bottom docks' default height the list then
  // shows a whole row of thumbnails.
  auto* controls = new QHBoxLayout;
  controls->addWidget(filter_, 1);
  controls->addWidget(open_);
  controls->addWidget(delete_);
  controls->addWidget(show_folder_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(controls);
  layout->addWidget(list_, 1);
  layout->addWidget(summary_);
  // Tab goes from the filter to the runs it leaves, then to what acts on them.
  setTabOrder(filter_, list_);
  setTabOrder(list_, open_);
  setTabOrder(open_, delete_);
  setTabOrder(delete_, show_folder_);

  connect(list_, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) { openRow(list_->row(item)); });
  connect(open_, &QPushButton::clicked, this, [this] { openRow(list_->currentRow()); });
  connect(delete_, &QPushButton::clicked, this, [this] { deleteSelected(); });
  connect(show_folder_, &QPushButton::clicked, this, [this] {
    // The chosen run's folder, where its video and record are; else the library's, made here when
    // no run has been kept yet, so that the file manager shows where runs will go.
    std::error_code ec;
    const bool run = actsOn(list_->currentRow());
    const std::filesystem::path folder = run ? entries_[size_t(list_->currentRow())].folder : library_.root();
    if (!run) std::filesystem::create_directories(folder, ec);
    const QString name = QFile::decodeName(folder.c_str());  // the name need not be UTF-8
    if (ec) {
      Q_EMIT errorOccurred(
          tr("cannot create the library folder %1: %2").arg(name, QString::fromStdString(ec.message())));
    } else if (!QDesktopServices::openUrl(QUrl::fromLocalFile(name))) {
      Q_EMIT errorOccurred(tr("no file manager could open %1").arg(name));
    }
  });
  connect(list_, &QListWidget::currentRowChanged, this, [this] { updateButtons(); });
  connect(filter_, &QLineEdit::textChanged, this, [this] { applyFilter(); });
  // Return in the filter goes to the first run it shows, ready for Enter to open it.
  connect(filter_, &QLineEdit::returnPressed, this, [this] {
    for (int row = 0; row < list_->count(); ++row) {
      if (list_->isRowHidden(row)) continue;
      list_->setCurrentRow(row);
      list_->setFocus();
      return;
    }
  });
  auto* remove = new QShortcut(QKeySequence::Delete, list_);
  remove->setContext(Qt::WidgetShortcut);  // the list's: the filter's Delete edits its text
  connect(remove, &QShortcut::activated, this, [this] { deleteSelected(); });
  // The window's while the panel is on screen: a click on its tab leaves the focus where it was, so a
  // shortcut of the panel alone did nothing then, and the words typed next went elsewhere.
  auto* find = new QShortcut(QKeySequence::Find, this);
  find->setContext(Qt::WindowShortcut);
  connect(find, &QShortcut::activated, this, [this] {
    if (!isVisible() || visibleRegion().isEmpty()) return;  // behind another tab of its dock
    filter_->setFocus(Qt::ShortcutFocusReason);
    filter_->selectAll();
  });
  sync_timer_->setSingleShot(true);
  sync_timer_->setInterval(300);
  connect(sync_timer_, &QTimer::timeout, this, [this] { syncWithFolder(); });
  connect(root_watcher_, &QFileSystemWatcher::directoryChanged, this, [this](const QString& path) {
    // The folder above the root (perhaps $HOME, which changes all the time) matters only when the
    // root came, went or was replaced.
    const bool root_changed = watchRoot();
    if (root_changed || path == QFile::decodeName(watchedRoot().c_str())) sync_timer_->start();
  });
  watchRoot();
  refresh();
}

std::filesystem::path LibraryPanel::watchedRoot() const {
  // Absolute, without a trailing '/' ("lib/" or "lib" as SVGEAR_LIBRARY gave it): its parent is
  // then the folder above it.
  std::error_code ec;
  std::filesystem::path root = std::filesystem::absolute(library_.root(), ec).lexically_normal();
  if (ec) root = library_.root().lexically_normal();
  return root.has_filename() ? root : root.parent_path();
}

bool LibraryPanel::watchRoot() {
  // The root while it exists, and the nearest folder above it that does: Qt's watch of a folder
  // tells nothing of its own rename (inotify's IN_MOVE_SELF is not asked for), its parent does, and
  // the root made again (a backup put back after it was removed or moved away) is seen.
  const std::filesystem::path root = watchedRoot();
  std::error_code ec;
  std::filesystem::path above = root.parent_path();
  while (!std::filesystem::is_directory(above, ec) && above.has_parent_path() && above != above.parent_path()) {
    above = above.parent_path();
  }
  QStringList paths = {QFile::decodeName(above.c_str())};
  if (std::filesystem::is_directory(root, ec)) paths.prepend(QFile::decodeName(root.c_str()));
  // Which folder has the root's name: another one moved in (a backup swapped for it) is watched
  // afresh, though its path is the same.
  struct stat st {};
  const QString identity = ::stat(root.c_str(), &st) == 0 ? QString("%1:%2").arg(st.st_dev).arg(st.st_ino) : QString();
  const QStringList now = root_watcher_->directories();
  const bool root_changed = identity != root_identity_;
  root_identity_ = identity;
  if (root_changed || now != paths) {
    if (!now.isEmpty()) root_watcher_->removePaths(now);
    root_watcher_->addPaths(paths);
  }
  return root_changed;
}

void LibraryPanel::syncWithFolder() {
  std::set<std::filesystem::path> listed;
  for (const LibraryEntry& e : entries_) listed.insert(e.folder);
  struct Changes {
    std::vector<std::filesystem::path> gone;
    Scanned added;
  };
  auto* watcher = new QFutureWatcher<Changes>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher] {
    watcher->deleteLater();
    Changes changes = watcher->future().takeResult();
    // One the panel is deleting goes when that ends, which reports it.
    for (const std::filesystem::path& folder : changes.gone) {
      if (isDeleting(folder)) continue;
      const int row = rowOf(folder);
      const bool chosen = row >= 0 && row == list_->currentRow();
      const QString prompt = chosen ? QString::fromStdString(entries_[size_t(row)].prompt) : QString();
      unlist(folder);
      // Qt would make the next run the chosen one, which Enter or Delete would then act on unasked.
      if (chosen) {
        list_->setCurrentRow(-1);
        Q_EMIT statusChanged(tr("The run chosen in the library, “%1”, went (moved or deleted outside the studio)")
                                 .arg(bidi_controls_shown(shortened(prompt, kDialogPromptLength))));
      }
    }
    for (size_t i = 0; i < changes.added.entries.size(); ++i) {
      const LibraryEntry& e = changes.added.entries[i];
      if (rowOf(e.folder) < 0 && !isDeleting(e.folder)) list(e, changes.added.thumbnails[i]);  // not kept meanwhile
    }
    if (changes.added.error.isEmpty()) damaged_ = changes.added.damaged;  // damaged runs are never listed
    write_problem_ = changes.added.write_problem;
    updateSummary();
    updateButtons();
  });
  // The task holds no pointer to the panel: a panel gone before it ends is not touched.
  watcher->setFuture(QtConcurrent::run([root = library_.root(), listed = std::move(listed)] {
    Changes changes;
    std::error_code ec;
    for (const std::filesystem::path& folder : listed) {
      // Only "not found": a failed lookup (a permission, a stale NFS handle) keeps the row, whose
      // Open then says why.
      if (std::filesystem::symlink_status(folder, ec).type() == std::filesystem::file_type::not_found) {
        changes.gone.push_back(folder);
      }
    }
    // Only the runs not listed are read: the watcher fires for each run this studio keeps. An
    // unreadable folder (its error set) leaves the rows as they are.
    changes.added = scan(root, listed);
    return changes;
  }));
}

void LibraryPanel::refresh() {
  scanning_ = true;
  const int scan = ++scan_;
  inserted_during_scan_.clear();
  deleted_during_scan_.clear();
  auto* watcher = new QFutureWatcher<Scanned>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, scan] {
    watcher->deleteLater();
    if (scan == scan_) listScanned(watcher->future().takeResult());
  });
  // The task holds no pointer to the panel: a panel gone before it ends is not touched.
  watcher->setFuture(QtConcurrent::run([root = library_.root()] { return LibraryPanel::scan(root, {}); }));
}

void LibraryPanel::listScanned(Scanned scanned) {
  scanning_ = false;
  entries_.clear();
  list_->clear();
  for (size_t i = 0; i < scanned.entries.size(); ++i) {
    const LibraryEntry& e = scanned.entries[i];
    // Deleted while the scan ran (it may have read the folder first): not listed again.
    if (std::find(deleted_during_scan_.begin(), deleted_during_scan_.end(), e.folder) != deleted_during_scan_.end()) {
      continue;
    }
    entries_.push_back(e);
    addRow(int(entries_.size()) - 1, e, scanned.thumbnails[i]);
  }
  scan_error_ = scanned.error;  // before the runs kept meanwhile: one listed shows the folder readable
  damaged_ = scanned.damaged;
  write_problem_ = scanned.write_problem;
  // Runs kept while the scan ran: listed again unless the scan found them or they were deleted since.
  for (const LibraryEntry& e : inserted_during_scan_) {
    if (std::find(deleted_during_scan_.begin(), deleted_during_scan_.end(), e.folder) == deleted_during_scan_.end()) {
      insert(e);
    }
  }
  deleted_during_scan_.clear();
  inserted_during_scan_.clear();
  updateSummary();
  open_->setEnabled(false);
  delete_->setEnabled(false);
  // A folder removed or added while the scan ran may be listed or not: looked at again.
  sync_timer_->start();
  Q_EMIT listed();
}

QString LibraryPanel::caption(const LibraryEntry& e) const {
  // Qt elides at grapheme boundaries, so an emoji or an accent is never split.
  const QFontMetrics metrics = list_->fontMetrics();
  const int width = caption_width(list_->font());
  const auto line = [&](const QString& text) { return metrics.elidedText(text, Qt::ElideRight, width); };
  QStringList lines = {line(bidi_controls_shown(QString::fromStdString(e.prompt).simplified()))};
  // The model beside the mode: runs of one prompt, mode and seed on two models had read alike. By
  // its folder's name, as the Model panel lists it: two Wan folders' models share a name, and so do
  // a trained shapes-s and the built-in one.
  const std::string folder = model_folder_name(e);
  QStringList run = {QString::fromStdString(e.attention),
                     bidi_controls_shown(QString::fromStdString(folder.empty() ? e.model : folder).simplified())};
  run.removeAll(QString());
  if (!run.isEmpty()) lines << line(run.join(" · "));
  lines << line(tr("seed %1").arg(qulonglong(e.seed)));
  if (!e.created.empty()) lines << line(local_time_text(e.created));
  return lines.join('\n');
}

void LibraryPanel::addRow(int row, const LibraryEntry& e, const QImage& thumbnail) {
  auto* item =
      new QListWidgetItem(QIcon(QPixmap::fromImage(e.clip_gone() ? marked_gone(thumbnail) : thumbnail)), caption(e));
  item->setToolTip(tooltip(e));
  list_->insertItem(row, item);
  // A line in a fallback font (a Chinese prompt's) is taller than one in the list's font: the cells
  // take the tallest caption's height, where Qt had cut its last line, the time, and elided the seed.
  const QSize grid = list_->gridSize();
  const int needed = list_->sizeHintForIndex(list_->model()->index(row, 0)).height();
  if (needed > grid.height()) list_->setGridSize(QSize(grid.width(), needed));
  list_->setRowHidden(row, !matchesFilter(e));
  if (isDeleting(e.folder)) setRowEnabled(row, false);  // listed again by a scan
}

bool LibraryPanel::matchesFilter(const LibraryEntry& e) const {
  const QStringList words = filter_->text().split(' ', Qt::SkipEmptyParts);
  if (words.isEmpty()) return true;
  // The model by its name and by its folder's, as the Model panel lists it.
  const QString searched = QString::fromStdString(e.prompt + " " + e.attention + " " + e.model + " " +
                                                  model_folder_name(e)) +
                           " seed " + QString::number(qulonglong(e.seed));
  return std::all_of(words.begin(), words.end(),
                     [&](const QString& word) { return searched.contains(word, Qt::CaseInsensitive); });
}

void LibraryPanel::applyFilter() {
  for (int row = 0; row < count(); ++row) list_->setRowHidden(row, !matchesFilter(entries_[size_t(row)]));
  dropHiddenCurrentRow();
  updateSummary();
}

void LibraryPanel::dropHiddenCurrentRow() {
  if (const int row = list_->currentRow(); row >= 0 && list_->isRowHidden(row)) list_->setCurrentRow(-1);
  updateButtons();
}

bool LibraryPanel::isDeleting(const std::filesystem::path& folder) const {
  return std::find(deleting_.begin(), deleting_.end(), folder) != deleting_.end();
}

void LibraryPanel::setRowEnabled(int row, bool enabled) {
  QListWidgetItem* item = list_->item(row);
  item->setFlags(enabled ? item->flags() | Qt::ItemIsEnabled : item->flags() & ~Qt::ItemIsEnabled);
  updateButtons();
}

// Open and Delete act on the current row only when it is listed, shown and not being deleted: a
// row taken out (a delete, a run removed outside the studio) made QListWidget move the current
// row to a neighbour, which the filter may hide.
bool LibraryPanel::actsOn(int row) const {
  return row >= 0 && row < count() && !list_->isRowHidden(row) && !isDeleting(entries_[size_t(row)].folder);
}

void LibraryPanel::updateButtons() {
  const bool usable = actsOn(list_->currentRow());
  open_->setEnabled(usable && open_allowed_);
  delete_->setEnabled(usable);
  show_folder_->setToolTip(usable ? tr("Open this run's folder in the file manager")
                                  : tr("Open the library folder in the file manager (choose a run for its own)"));
}

void LibraryPanel::setOpenAllowed(bool allowed) {
  open_allowed_ = allowed;
  open_->setToolTip(allowed ? tr("Reload this run's prompt and settings (seed locked) and show its video")
                            : tr("A run is in progress: open a kept run once it finishes or is cancelled"));
  updateButtons();
}

void LibraryPanel::updateSummary() {
  const QString root = QFile::decodeName(library_.root().c_str());
  QString text;
  if (!scan_error_.isEmpty()) {
    text = tr("The library could not be read: %1").arg(scan_error_);
  } else if (entries_.empty()) {
    // It had said every run would be kept there, of a read-only folder; only the run's end warned.
    text = write_problem_.isEmpty() ? tr("No runs yet: every finished generation is kept in %1").arg(root)
                                    : tr("No runs yet in %1").arg(root);
  } else {
    int shown = 0;  // the rows the filter left (addRow and applyFilter hide the others)
    for (int row = 0; row < list_->count(); ++row) shown += !list_->isRowHidden(row);
    const QString runs = counted(count(), tr("run"), tr("runs"));
    text = shown == count() ? tr("%1 in %2").arg(runs, root)
                            : tr("%1 of %2 match the filter, in %3").arg(QString::number(shown), runs, root);
  }
  if (!write_problem_.isEmpty()) {
    text += tr(" · new runs cannot be kept: %1. Start the studio with SVGEAR_LIBRARY naming a folder you can "
               "write; meanwhile export what you want to keep (Ctrl+E).")
                .arg(write_problem_);
  }
  // A run whose record does not read is not listed, but said (it had vanished without a word); the
  // tooltip names each.
  if (scan_error_.isEmpty() && !damaged_.isEmpty()) {
    text += tr(" · %1 not listed: a record that does not read or is gone (the tooltip says which)")
                .arg(counted(int(damaged_.size()), tr("run"), tr("runs")));
  }
  summary_->setText(text);
  summary_->setToolTip(damaged_.join('\n'));
}

void LibraryPanel::insert(const LibraryEntry& entry) {
  watchRoot();
  if (scanning_) inserted_during_scan_.push_back(entry);
  if (rowOf(entry.folder) >= 0) return;  // already listed
  list(entry, clear_square());  // until its thumbnail is read
  scan_error_.clear();  // a run kept there: the folder is there now
  updateSummary();
  // Its picture follows from the thread pool: the library may sit on a slow disk.
  auto* watcher = new QFutureWatcher<QImage>(this);
  connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, folder = entry.folder] {
    watcher->deleteLater();
    const QImage thumbnail = watcher->future().takeResult();
    const int shown = rowOf(folder);  // deleted meanwhile, or moved by a scan's listing
    if (shown >= 0) list_->item(shown)->setIcon(QIcon(QPixmap::fromImage(thumbnail)));
  });
  watcher->setFuture(QtConcurrent::run(thumbnail_image, entry.thumbnail));
}

void LibraryPanel::list(const LibraryEntry& entry, const QImage& thumbnail) {
  const auto place = std::upper_bound(entries_.begin(), entries_.end(), entry, listed_before);
  const int row = int(place - entries_.begin());
  entries_.insert(place, entry);
  addRow(row, entry, thumbnail);
}

void LibraryPanel::unlist(const std::filesystem::path& folder) {
  // Its row now: a run kept meanwhile may have been listed above it.
  if (const int row = rowOf(folder); row >= 0) {
    entries_.erase(entries_.begin() + row);
    delete list_->takeItem(row);
    dropHiddenCurrentRow();
  }
}

void LibraryPanel::markClipGone(const std::filesystem::path& folder) {
  const int row = rowOf(folder);
  if (row < 0 || entries_[size_t(row)].clip_gone()) return;
  LibraryEntry& e = entries_[size_t(row)];
  e.video.clear();
  e.exact_frames.clear();
  QListWidgetItem* item = list_->item(row);
  const QImage shown = item->icon().pixmap(QSize(kThumbnailSide, kThumbnailSide), 1.0).toImage();  // as listed
  item->setIcon(QIcon(QPixmap::fromImage(marked_gone(shown))));
  item->setToolTip(tooltip(e));
}

void LibraryPanel::updateRecord(const LibraryEntry& read) {
  const int row = rowOf(read.folder);
  if (row < 0 || entries_[size_t(row)].record == read.record) return;
  LibraryEntry& e = entries_[size_t(row)];
  // The files as listed: markClipGone follows a clip deleted since. And its time as listed: the list
  // is kept newest first for the runs inserted later, and an edited time would break that order.
  LibraryEntry updated = read;
  updated.video = e.video;
  updated.exact_frames = e.exact_frames;
  updated.thumbnail = e.thumbnail;
  updated.created = e.created;
  e = std::move(updated);
  QListWidgetItem* item = list_->item(row);
  item->setText(caption(e));
  item->setToolTip(tooltip(e));
  list_->setRowHidden(row, !matchesFilter(e));
  dropHiddenCurrentRow();
}

int LibraryPanel::count() const { return int(entries_.size()); }

int LibraryPanel::rowOf(const std::filesystem::path& folder) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].folder == folder) return int(i);
  }
  return -1;
}

void LibraryPanel::openRow(int row) {
  if (!actsOn(row)) return;  // hidden by the filter, or being deleted (its folder is being renamed away)
  Q_EMIT entryOpened(entries_[size_t(row)].folder);
}

void LibraryPanel::focusList() { list_->setFocus(Qt::OtherFocusReason); }

void LibraryPanel::deleteSelected() {
  const int row = list_->currentRow();
  if (!actsOn(row)) return;
  // A copy: the dialog's event loop delivers the worker's signals, and a finished run refreshes
  // entries_ underneath it.
  const LibraryEntry e = entries_[size_t(row)];
  const QString prompt = bidi_controls_shown(shortened(QString::fromStdString(e.prompt), kDialogPromptLength));
  QMessageBox ask(QMessageBox::Question, tr("Delete run"),
                  tr("Delete “%1” (seed %2, %3) from the library?")
                      .arg(prompt, QString::number(qulonglong(e.seed)), local_time_text(e.created)),
                  QMessageBox::Yes | QMessageBox::No, this);
  ask.setTextFormat(Qt::PlainText);  // the prompt is the user's text, not markup
  ask.setDefaultButton(QMessageBox::No);  // an Enter meant for the list does not delete a run
  if (ask.exec() != QMessageBox::Yes) return;
  deleting_.push_back(e.folder);
  // The dialog's event loop may have moved the row (a run kept meanwhile).
  if (const int shown = rowOf(e.folder); shown >= 0) setRowEnabled(shown, false);
  Q_EMIT statusChanged(tr("Deleting “%1”…").arg(prompt));
  // The entry leaves the library on the thread pool (a rename, on a network mount perhaps): its row
  // goes once it has, and stays, with the reason reported, when it cannot.
  // Why it could not; else whether it was gone before (moved or deleted outside the studio).
  struct Removal {
    QString error;
    bool gone_already = false;
  };
  auto* watcher = new QFutureWatcher<Removal>(this);
  connect(watcher, &QFutureWatcherBase::finished, watcher, &QObject::deleteLater);
  connect(watcher, &QFutureWatcherBase::resultReadyAt, this, [this, watcher, folder = e.folder, prompt, seed = e.seed] {
    deleting_.erase(std::find(deleting_.begin(), deleting_.end(), folder));
    const Removal removal = watcher->future().resultAt(0);
    if (!removal.error.isEmpty()) {
      if (const int shown = rowOf(folder); shown >= 0) setRowEnabled(shown, true);
      Q_EMIT errorOccurred(removal.error);
      return;
    }
    Q_EMIT statusChanged(removal.gone_already
                             ? tr("“%1” was no longer in the library (moved or deleted outside the studio)").arg(prompt)
                             : tr("Deleted “%1” (seed %2)").arg(prompt).arg(seed));
    if (scanning_) deleted_during_scan_.push_back(folder);
    unlist(folder);
    updateSummary();
  });
  // The task holds no pointer to the panel: a panel gone before it ends is not touched.
  // Its files go in the same task once it is out of the library: the row goes then (resultReadyAt),
  // not after them (a clip on a network mount takes a while), and a panel closed meanwhile, which
  // drops the watcher, does not leave them on the disk.
  watcher->setFuture(QtConcurrent::run([library = library_, e](QPromise<Removal>& promise) {
    std::error_code ec;
    // Gone already (moved or deleted by hand, or by another studio): the row goes, and the status
    // says so. Only "not found": a failed lookup (a permission, a stale NFS handle) goes to
    // detach(), which says why.
    if (std::filesystem::symlink_status(e.folder, ec).type() == std::filesystem::file_type::not_found) {
      promise.addResult(Removal{QString(), true});
      return;
    }
    std::filesystem::path detached;
    try {
      detached = library.detach(e);
    } catch (const std::exception& error) {  // thrown out of the task, it would end the studio
      promise.addResult(Removal{QString::fromStdString(error.what()), false});
      return;
    }
    promise.addResult(Removal{});
    GenerationLibrary::purge_detached(detached);  // never throws; an empty path (a link, removed) is nothing
  }));
}

}  // namespace svgear
