#include "ui/monospace_font_file.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include <fontconfig/fontconfig.h>

namespace svgear {

FontFile monospace_font_file(std::u32string_view characters) {
  FcPattern* pattern = FcNameParse(reinterpret_cast<const FcChar8*>("monospace"));
  FcCharSet* wanted = FcCharSetCreate();
  if (!pattern || !wanted) {
    if (pattern) FcPatternDestroy(pattern);
    if (wanted) FcCharSetDestroy(wanted);
    return {};
  }
  for (const char32_t c : characters) FcCharSetAddChar(wanted, FcChar32(c));
  FcPatternAddCharSet(pattern, FC_CHARSET, wanted);
  FcPatternAddBool(pattern, FC_SCALABLE, FcTrue);
  FcConfigSubstitute(nullptr, pattern, FcMatchPattern);
  FcDefaultSubstitute(pattern);
  FcResult result = FcResultNoMatch;
  // Every font in fontconfig's order of preference, not only its best match: a configured monospace
  // font without ε ranks above DejaVu Sans Mono, which has it.
  FcFontSet* fonts = FcFontSort(nullptr, pattern, FcFalse, nullptr, &result);
  FontFile found;
  for (int i = 0; fonts && i < fonts->nfont && found.path.empty(); ++i) {
    const FcPattern* font = fonts->fonts[i];
    // Only a font that has every character and is an outline font ImGui's rasteriser
    // (stb_truetype: TrueType and CFF outlines, not a variable font's instances) reads.
    FcChar8* path = nullptr;
    FcChar8* format = nullptr;
    FcCharSet* has = nullptr;
    FcBool scalable = FcFalse, variable = FcFalse;
    int index = 0;
    if (FcPatternGetString(font, FC_FILE, 0, &path) != FcResultMatch ||
        FcPatternGetCharSet(font, FC_CHARSET, 0, &has) != FcResultMatch || !FcCharSetIsSubset(wanted, has) ||
        FcPatternGetBool(font, FC_SCALABLE, 0, &scalable) != FcResultMatch || !scalable ||
        FcPatternGetString(font, FC_FONTFORMAT, 0, &format) != FcResultMatch ||
        (std::strcmp(reinterpret_cast<const char*>(format), "TrueType") != 0 &&
         std::strcmp(reinterpret_cast<const char*>(format), "CFF") != 0)) {
      continue;
    }
    if (FcPatternGetBool(font, FC_VARIABLE, 0, &variable) == FcResultMatch && variable) continue;
    FcPatternGetInteger(font, FC_INDEX, 0, &index);
    // The upper 16 bits name a named instance of a variable font; the face is the lower.
    FontFile candidate{reinterpret_cast<const char*>(path), index & 0xFFFF, {}};
    std::ifstream in(candidate.path, std::ios::binary);
    candidate.data.assign(std::istreambuf_iterator<char>(in), {});
    if (has_font_face(candidate.data, candidate.index)) found = std::move(candidate);  // else a WOFF, …
  }
  if (fonts) FcFontSetDestroy(fonts);
  FcCharSetDestroy(wanted);
  FcPatternDestroy(pattern);
  return found;
}

bool has_font_face(const std::vector<unsigned char>& data, int index) {
  if (data.size() < 12 || index < 0) return false;
  const auto tag = [&](const char* t) { return std::memcmp(data.data(), t, 4) == 0; };
  if (tag("ttcf")) {
    const uint32_t faces = uint32_t(data[8]) << 24 | uint32_t(data[9]) << 16 | uint32_t(data[10]) << 8 | data[11];
    return uint32_t(index) < faces && data.size() >= 12 + 4 * size_t(faces);
  }
  return index == 0 && (tag("\x00\x01\x00\x00") || tag("true") || tag("OTTO"));
}

}  // namespace svgear
