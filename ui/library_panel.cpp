#include "ui/library_panel.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>

#include <QDesktopServices>
#include <QHBoxLayout>
#include <QImage>
#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
#include <QPixmap>
#include <QPushButton>
#include <QUrl>
#include <QVBoxLayout>

#include "core/user_error.h"

namespace svgear {
namespace {

constexpr int kThumbnailSide = 96;

QString tooltip(const LibraryEntry& e) {
  // One multi-argument arg(): chained ones would read a "%1" in the prompt as a place for the next value.
  const QString size = QObject::tr("%1×%2, %3 frames, %4 steps").arg(e.width).arg(e.height).arg(e.frames).arg(e.steps);
  return QObject::tr("%1\nmodel %2, %3 attention, seed %4\n%5\n%6")
      .arg(QString::fromStdString(e.prompt), QString::fromStdString(e.model), QString::fromStdString(e.attention),
           QString::number(qulonglong(e.seed)), size, QString::fromStdString(e.created));
}

}  // namespace

LibraryPanel::LibraryPanel(std::filesystem::path root, QWidget* parent)
    : QWidget(parent),
      library_(std::move(root)),
      list_(new QListWidget(this)),
      summary_(new QLabel(this)),
      open_(new QPushButton(tr("Open"), this)),
      delete_(new QPushButton(tr("Delete"), this)),
      show_folder_(new QPushButton(tr("Show folder"), this)) {
  list_->setObjectName("library_list");
  list_->setViewMode(QListView::IconMode);
  list_->setIconSize(QSize(kThumbnailSide, kThumbnailSide));
  list_->setResizeMode(QListView::Adjust);
  list_->setMovement(QListView::Static);
  list_->setWordWrap(true);
  list_->setUniformItemSizes(true);
  list_->setGridSize(QSize(kThumbnailSide + 24, kThumbnailSide + 40));
  summary_->setObjectName("library_summary");
  open_->setObjectName("library_open");
  open_->setToolTip(tr("Reload this run's prompt and settings (seed locked) and show its video"));
  delete_->setObjectName("library_delete");
  delete_->setToolTip(tr("Delete this run's folder from the library"));
  show_folder_->setToolTip(tr("Open the library folder in the file manager"));

  auto* buttons = new QHBoxLayout;
  buttons->addWidget(open_);
  buttons->addWidget(delete_);
  buttons->addStretch(1);
  buttons->addWidget(show_folder_);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(list_, 1);
  layout->addWidget(summary_);
  layout->addLayout(buttons);

  connect(list_, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) { openRow(list_->row(item)); });
  connect(open_, &QPushButton::clicked, this, [this] { openRow(list_->currentRow()); });
  connect(delete_, &QPushButton::clicked, this, [this] { deleteSelected(); });
  connect(show_folder_, &QPushButton::clicked, this, [this] {
    QDesktopServices::openUrl(QUrl::fromLocalFile(QString::fromStdString(library_.root().string())));
  });
  connect(list_, &QListWidget::currentRowChanged, this, [this](int row) {
    open_->setEnabled(row >= 0);
    delete_->setEnabled(row >= 0);
  });
  refresh();
}

QIcon LibraryPanel::icon(const std::filesystem::path& thumbnail, QHash<QByteArray, QIcon>& fresh) const {
  // Keyed by path and time: a folder deleted and written again under its name gets its new picture.
  // Bytes, not QString: a folder name that is not UTF-8 would not survive the round trip.
  std::error_code ec;
  const auto modified = std::filesystem::last_write_time(thumbnail, ec).time_since_epoch().count();
  const QByteArray key = QByteArray::fromStdString(thumbnail.string()) + '@' + QByteArray::number(qint64(modified));
  auto cached = icons_.find(key);
  if (cached != icons_.end()) return fresh[key] = *cached;
  if (!std::filesystem::is_regular_file(thumbnail, ec)) return fresh[key] = QIcon();  // a FIFO would block the GUI
  std::ifstream in(thumbnail, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  QImage image;
  image.loadFromData(reinterpret_cast<const uchar*>(bytes.data()), int(bytes.size()), "PNG");
  // Pixel models make tiny frames: magnify without smoothing, as the preview does.
  if (!image.isNull()) image = image.scaled(kThumbnailSide, kThumbnailSide, Qt::KeepAspectRatio, Qt::FastTransformation);
  return fresh[key] = QIcon(QPixmap::fromImage(image));
}

QListWidgetItem* LibraryPanel::makeItem(const LibraryEntry& e, QHash<QByteArray, QIcon>& fresh) const {
  QString label = QString::fromStdString(e.prompt);
  if (label.size() > 40) label = label.left(38) + "…";
  auto* item = new QListWidgetItem(icon(e.thumbnail, fresh), label);
  item->setToolTip(tooltip(e));
  return item;
}

void LibraryPanel::updateSummary() {
  summary_->setText(entries_.empty() ? tr("No runs yet: every finished generation is kept in %1")
                                           .arg(QString::fromStdString(library_.root().string()))
                                     : tr("%n run(s) in %1", nullptr, int(entries_.size()))
                                           .arg(QString::fromStdString(library_.root().string())));
}

void LibraryPanel::refresh() {
  entries_ = library_.entries();
  list_->clear();
  QHash<QByteArray, QIcon> fresh;  // the icons of the entries listed now: deleted ones' are dropped
  for (const LibraryEntry& e : entries_) list_->addItem(makeItem(e, fresh));
  icons_ = std::move(fresh);
  updateSummary();
  open_->setEnabled(false);
  delete_->setEnabled(false);
}

void LibraryPanel::insert(const LibraryEntry& entry) {
  for (const LibraryEntry& e : entries_) {
    if (e.folder == entry.folder) return;  // already listed (a refresh in between found it)
  }
  const auto place = std::upper_bound(entries_.begin(), entries_.end(), entry, listed_before);
  const int row = int(place - entries_.begin());
  entries_.insert(place, entry);
  list_->insertItem(row, makeItem(entry, icons_));
  updateSummary();
}

int LibraryPanel::count() const { return int(entries_.size()); }

void LibraryPanel::openRow(int row) {
  if (row < 0 || row >= count()) return;
  Q_EMIT entryOpened(entries_[size_t(row)].folder);
}

void LibraryPanel::deleteSelected() {
  const int row = list_->currentRow();
  if (row < 0 || row >= count()) return;
  // A copy: the dialog's event loop delivers the worker's signals, and a finished run refreshes
  // entries_ underneath it.
  const LibraryEntry e = entries_[size_t(row)];
  const auto answer = QMessageBox::question(this, tr("Delete run"),
                                            tr("Delete “%1” (%2) from the library?")
                                                .arg(QString::fromStdString(e.prompt), QString::fromStdString(e.created)));
  if (answer != QMessageBox::Yes) return;
  try {
    library_.remove(e);
  } catch (const UserError& error) {
    Q_EMIT errorOccurred(QString::fromStdString(error.what()));
  }
  refresh();
}

}  // namespace svgear
