#pragma once
// The file of a scalable system font (monospace where one has the characters) that draws every
// one of `characters`, found by fontconfig, so the token inspector can rasterise real glyphs at
// the screen's pixel density. An empty path where the system has none.

#include <string>
#include <string_view>

namespace svgear {

struct FontFile {
  std::string path;
  int index = 0;  // the face within a collection (.ttc)
};

FontFile monospace_font_file(std::u32string_view characters);

}  // namespace svgear
