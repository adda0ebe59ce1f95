#include "ui/main_window.h"

#include <QLabel>
#include <QListWidget>
#include <QStatusBar>
#include <QVBoxLayout>

#include "core/pipeline/model_manifest.h"
#include "core/user_error.h"

namespace svgear {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle("SVG-EAR Studio");
  auto* central = new QWidget(this);
  auto* layout = new QVBoxLayout(central);
  auto* heading = new QLabel("<h2>SVG-EAR Studio</h2><p>Models found:</p>", central);
  auto* models = new QListWidget(central);
  for (const auto& root : model_search_roots()) {
    for (const auto& folder : find_model_folders(root)) {
      try {
        const ModelManifest m = ModelManifest::read(folder);
        models->addItem(QString::fromStdString(m.name + " — " + folder.string()));
      } catch (const UserError& e) {
        models->addItem(QString::fromStdString(folder.string() + ": " + e.what()));
      }
    }
  }
  if (models->count() == 0) models->addItem("none: set SVGEAR_MODELS to a folder of model folders");
  layout->addWidget(heading);
  layout->addWidget(models);
  setCentralWidget(central);
  statusBar()->showMessage("Generate from the command line for now: svgear generate --prompt \"...\"");
  resize(720, 420);
}

}  // namespace svgear
