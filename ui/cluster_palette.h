#pragma once
// Cluster colours shared by the routing views, so a block-map row and the tokens of that query
// cluster in the cluster map have one colour.

#include <QColor>

namespace svgear {

// A distinct, stable colour for cluster `id`: hues a golden angle apart, so neighbouring ids differ
// strongly and a cluster keeps its colour from step to step.
QColor cluster_colour(int id);

}  // namespace svgear
