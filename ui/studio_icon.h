#pragma once
// The studio's icon (a block map of sparse attention; packaging/make-icon.py draws it), at every
// size it ships, from the resources built into the executable. The installed copies of the same
// files let the desktop's launcher show it (packaging/svgear-studio.desktop).

#include <QIcon>

namespace svgear {

QIcon studio_icon();

}  // namespace svgear
