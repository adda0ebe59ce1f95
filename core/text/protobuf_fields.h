#pragma once
// protobuf_bytes_fields: the length-delimited fields (bytes, strings, embedded messages) of one
// number in a serialized protobuf message, read by hand: Debian ships no sentencepiece_model.pb.h,
// and spiece.model's normalisation tables must be checked before libsentencepiece reads them.

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace svgear {

// Calls visit(field, wire_type, value, bytes) for each field of the message, in file order: a
// varint (wire 0) or fixed 64/32-bit field (1, 5) as `value` (little-endian bits), a
// length-delimited one (2) as `bytes`. Throws UserError when the message is malformed: a varint past
// 10 bytes, a length past the end, a group or an unknown wire type.
void for_each_protobuf_field(std::string_view message,
                             const std::function<void(uint32_t, int, uint64_t, std::string_view)>& visit);

// Every occurrence of field `field`, in file order (protobuf merges repeated embedded messages and
// keeps the last scalar: callers that check values check them all). Throws UserError when the
// message is malformed, as for_each_protobuf_field.
std::vector<std::string_view> protobuf_bytes_fields(std::string_view message, uint32_t field);

}  // namespace svgear
