#include "ui/monospace_font_file.h"

#include <cstring>

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
  FcPattern* match = FcFontMatch(nullptr, pattern, &result);
  FontFile found;
  // fontconfig always answers with its closest font: take it only if it really has every character
  // and is an outline font ImGui's rasteriser (stb_truetype: TrueType and CFF outlines) reads.
  FcChar8* path = nullptr;
  FcChar8* format = nullptr;
  FcCharSet* has = nullptr;
  FcBool scalable = FcFalse;
  int index = 0;
  if (match && FcPatternGetString(match, FC_FILE, 0, &path) == FcResultMatch &&
      FcPatternGetCharSet(match, FC_CHARSET, 0, &has) == FcResultMatch && FcCharSetIsSubset(wanted, has) &&
      FcPatternGetBool(match, FC_SCALABLE, 0, &scalable) == FcResultMatch && scalable &&
      FcPatternGetString(match, FC_FONTFORMAT, 0, &format) == FcResultMatch &&
      (std::strcmp(reinterpret_cast<const char*>(format), "TrueType") == 0 ||
       std::strcmp(reinterpret_cast<const char*>(format), "CFF") == 0)) {
    FcPatternGetInteger(match, FC_INDEX, 0, &index);
    found = {reinterpret_cast<const char*>(path), index};
  }
  if (match) FcPatternDestroy(match);
  FcCharSetDestroy(wanted);
  FcPatternDestroy(pattern);
  return found;
}

}  // namespace svgear
