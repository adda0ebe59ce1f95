#include "ui/studio_icon.h"

#include <QString>

// Outside any namespace, as Q_INIT_RESOURCE requires. The call also keeps the resource's object
// file in the link: nothing else in this static library refers to it.
static void register_icons() { Q_INIT_RESOURCE(studio_icons); }

namespace svgear {

QIcon studio_icon() {
  register_icons();
  QIcon icon;
  for (int size : {16, 32, 48, 64, 128, 256}) icon.addFile(QString(":/icons/svgear-studio-%1.png").arg(size), QSize(size, size));
  return icon;
}

}  // namespace svgear
