#pragma once
// The file of a scalable system font (monospace where one has the characters) that draws every
// one of `characters`, found by fontconfig and read, so the token inspector can rasterise real
// glyphs at the screen's pixel density. An empty path (and no data) where the system has none.

#include <string>
#include <string_view>
#include <vector>

namespace svgear {

struct FontFile {
  std::string path;
  int index = 0;                    // the face within a collection (.ttc)
  std::vector<unsigned char> data;  // the file, which has_font_face found holding that face
};

FontFile monospace_font_file(std::u32string_view characters);

// Whether `data` is a TrueType or OpenType font, or a collection of them, with face `index`:
// stb_truetype, which ImGui rasterises with, asserts (the studio ends) on anything else (a WOFF
// file, a variable font's instance number taken for a face). monospace_font_file takes only a
// font that passes.
bool has_font_face(const std::vector<unsigned char>& data, int index);

}  // namespace svgear
