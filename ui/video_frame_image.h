#pragma once
// frame_image: one frame of a shared video as a QImage over the video's own pixels — no copy. The
// image holds a reference to the video, so it stays valid wherever Qt keeps it (pixmaps, copies),
// and it is read-only: painting on it would detach a private copy first.

#include <vector>

#include <QImage>

#include "core/media/video.h"

namespace svgear {

QImage frame_image(const SharedVideo& video, int frame);
// Every frame, in order.
std::vector<QImage> frame_images(const SharedVideo& video);

}  // namespace svgear
