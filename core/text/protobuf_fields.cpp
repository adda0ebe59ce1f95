#include "core/text/protobuf_fields.h"

#include "core/user_error.h"

namespace svgear {

std::vector<std::string_view> protobuf_bytes_fields(std::string_view message, uint32_t field) {
  const auto fail = [] { throw UserError("a malformed protobuf message"); };
  size_t i = 0;
  const auto varint = [&] {
    uint64_t value = 0;
    for (int shift = 0;; shift += 7) {
      if (i >= message.size() || shift > 63) fail();
      const auto byte = static_cast<unsigned char>(message[i++]);
      value |= uint64_t(byte & 0x7F) << shift;
      if (!(byte & 0x80)) return value;
    }
  };
  const auto skip = [&](uint64_t bytes) {
    if (bytes > message.size() - i) fail();
    i += size_t(bytes);
  };
  std::vector<std::string_view> found;
  while (i < message.size()) {
    const uint64_t key = varint();
    switch (key & 7) {
      case 0: varint(); break;
      case 1: skip(8); break;
      case 5: skip(4); break;
      case 2: {
        const uint64_t length = varint();
        const size_t start = i;
        skip(length);
        if ((key >> 3) == field) found.push_back(message.substr(start, size_t(length)));
        break;
      }
      default: fail();  // groups (3, 4) are not in SentencePiece's messages
    }
  }
  return found;
}

}  // namespace svgear
