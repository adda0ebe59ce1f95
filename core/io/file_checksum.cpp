#include "core/io/file_checksum.h"

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <vector>

namespace svgear {

std::optional<std::string> file_checksum(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a's offset basis and prime
  std::vector<char> chunk(size_t(1) << 20);
  while (in) {
    in.read(chunk.data(), std::streamsize(chunk.size()));
    const std::streamsize got = in.gcount();
    for (std::streamsize i = 0; i < got; ++i) {
      hash = (hash ^ uint8_t(chunk[size_t(i)])) * 0x100000001b3ull;
    }
  }
  if (in.bad()) return std::nullopt;
  char text[32];
  std::snprintf(text, sizeof text, "fnv1a64:%016" PRIx64, hash);
  return std::string(text);
}

}  // namespace svgear
