#pragma once
// MainWindow: the studio's top-level window. For now it lists the models the engine finds and
// points to the CLI; the generation panels, preview and routing views arrive with the GUI issue.

#include <QMainWindow>

namespace svgear {

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(QWidget* parent = nullptr);
};

}  // namespace svgear
