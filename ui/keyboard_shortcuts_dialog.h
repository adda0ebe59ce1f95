#pragma once
// KeyboardShortcutsDialog: Help ▸ Keyboard shortcuts. Every menu item with keys, read from the
// menu bar as it is (so the list cannot drift from the menus), then the keys that belong to a
// panel rather than a menu (Return in the prompt, Delete in the History and the Library, Ctrl+F).
// The shortcuts had been findable only in the menus one by one, or in docs/studio.md.

#include <QDialog>

class QMenuBar;

namespace svgear {

class KeyboardShortcutsDialog : public QDialog {
  Q_OBJECT

 public:
  KeyboardShortcutsDialog(const QMenuBar* menus, QWidget* parent);
};

}  // namespace svgear
