#include "core/text/protobuf_fields.h"

#include "core/user_error.h"

namespace svgear {

void for_each_protobuf_field(std::string_view message,
                             const std::function<void(uint32_t, int, uint64_t, std::string_view)>& visit) {
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
  const auto take = [&](uint64_t bytes) {
    if (bytes > message.size() - i) fail();
    const std::string_view out = message.substr(i, size_t(bytes));
    i += size_t(bytes);
    return out;
  };
  const auto little_endian = [](std::string_view bytes) {
    uint64_t value = 0;
    for (size_t k = 0; k < bytes.size(); ++k) value |= uint64_t(static_cast<unsigned char>(bytes[k])) << (8 * k);
    return value;
  };
  while (i < message.size()) {
    const uint64_t key = varint();
    const auto field = uint32_t(key >> 3);
    const int wire = int(key & 7);
    switch (wire) {
      case 0: visit(field, wire, varint(), {}); break;
      case 1: visit(field, wire, little_endian(take(8)), {}); break;
      case 5: visit(field, wire, little_endian(take(4)), {}); break;
      case 2: {
        const uint64_t length = varint();
        visit(field, wire, 0, take(length));
        break;
      }
      default: fail();  // groups (3, 4) are not in SentencePiece's messages
    }
  }
}

std::vector<std::string_view> protobuf_bytes_fields(std::string_view message, uint32_t field) {
  std::vector<std::string_view> found;
  for_each_protobuf_field(message, [&](uint32_t f, int wire, uint64_t, std::string_view bytes) {
    if (f == field && wire == 2) found.push_back(bytes);
  });
  return found;
}

}  // namespace svgear
