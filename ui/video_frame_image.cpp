#include "ui/video_frame_image.h"

namespace svgear {

QImage frame_image(const SharedVideo& video, int frame) {
  if (video->width <= 0 || video->height <= 0) return QImage();  // a null image would never run the cleanup
  auto* holder = new SharedVideo(video);  // released by the image's cleanup
  return QImage(video->frame(frame), video->width, video->height, qsizetype(video->width) * 3, QImage::Format_RGB888,
                [](void* info) { delete static_cast<SharedVideo*>(info); }, holder);
}

std::vector<QImage> frame_images(const SharedVideo& video) {
  std::vector<QImage> images;
  images.reserve(size_t(video->frames));
  for (int f = 0; f < video->frames; ++f) images.push_back(frame_image(video, f));
  return images;
}

}  // namespace svgear
