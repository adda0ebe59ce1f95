#pragma once
// The named character references Python's html.unescape and ftfy know, for prompt cleaning
// (core/text/prompt_cleaning.cpp). Both tables are sorted by name in byte order; html_entities.cpp
// is generated (see its head).

#include <cstddef>

namespace svgear {

struct HtmlEntity {
  const char* name;  // without '&'; with ';' where the entity has it
  const char* text;  // UTF-8
};

extern const HtmlEntity kHtml5Entities[];
extern const size_t kHtml5EntityCount;
extern const HtmlEntity kFtfyUppercaseEntities[];
extern const size_t kFtfyUppercaseEntityCount;

}  // namespace svgear
