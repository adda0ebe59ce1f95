#include "ui/keyboard_shortcuts_dialog.h"

#include <QAction>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QMenu>
#include <QMenuBar>
#include <QScrollBar>
#include <QTableWidget>
#include <QVBoxLayout>

namespace svgear {
namespace {

// "&Export video (MP4)…" as the menu shows it: without the access key's "&" ("&&" is one "&").
QString shown_text(QString text) {
  text.replace("&&", QChar(0xE000));
  text.remove('&');
  text.replace(QChar(0xE000), "&");
  return text;
}

}  // namespace

KeyboardShortcutsDialog::KeyboardShortcutsDialog(const QMenuBar* menus, QWidget* parent) : QDialog(parent) {
  setObjectName("keyboard_shortcuts");
  setWindowTitle(tr("Keyboard shortcuts"));
  std::vector<std::pair<QString, QString>> rows;  // keys, what they do
  for (const QAction* entry : menus->actions()) {
    const QMenu* menu = entry->menu();
    if (!menu) continue;
    for (const QAction* action : menu->actions()) {
      if (action->shortcuts().isEmpty()) continue;
      QStringList keys;
      for (const QKeySequence& keys_of : action->shortcuts()) keys << keys_of.toString(QKeySequence::NativeText);
      rows.emplace_back(keys.join(tr(" or ")), shown_text(menu->title()) + " ▸ " + shown_text(action->text()));
    }
  }
  for (const auto& [keys, what] : std::initializer_list<std::pair<QString, QString>>{
           {tr("Return"), tr("In the prompt: generate")},
           {tr("Ctrl+Z"), tr("In the prompt: the prompt an example or a History entry replaced")},
           {tr("Delete"), tr("In the History: remove the entry; in the Library: delete the run (asks first)")},
           {tr("Return"), tr("In the Library: open the run (its prompt and settings, seed locked)")},
           {tr("Ctrl+F"), tr("The Library's filter, when the Library is in front")},
           {tr("Alt+letter"), tr("A menu, or the box of a label with that letter underlined")},
           {tr("Wheel, drag"), tr("On a zoomed preview: pan")}}) {
    rows.emplace_back(keys, what);
  }
  auto* table = new QTableWidget(int(rows.size()), 2, this);
  table->setObjectName("keyboard_shortcuts_table");
  table->setHorizontalHeaderLabels({tr("Keys"), tr("What they do")});
  table->verticalHeader()->hide();
  table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table->setSelectionMode(QAbstractItemView::NoSelection);
  table->setWordWrap(false);
  for (int row = 0; row < int(rows.size()); ++row) {
    table->setItem(row, 0, new QTableWidgetItem(rows[size_t(row)].first));
    table->setItem(row, 1, new QTableWidgetItem(rows[size_t(row)].second));
  }
  table->resizeColumnsToContents();
  table->horizontalHeader()->setStretchLastSection(true);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(table);
  layout->addWidget(buttons);
  // Wide enough for both columns whole, beside the vertical scroll bar: no row scrolls sideways.
  const QMargins margins = layout->contentsMargins();
  const int width = table->horizontalHeader()->length() + table->verticalScrollBar()->sizeHint().width() +
                    table->frameWidth() * 2 + margins.left() + margins.right() + 4;
  resize(std::max(520, width), std::min(640, table->verticalHeader()->length() + 120));
}

}  // namespace svgear
