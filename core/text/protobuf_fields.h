#pragma once
// protobuf_bytes_fields: the length-delimited fields (bytes, strings, embedded messages) of one
// number in a serialized protobuf message, read by hand: Debian ships no sentencepiece_model.pb.h,
// and spiece.model's normalisation tables must be checked before libsentencepiece reads them.

#include <cstdint>
#include <string_view>
#include <vector>

namespace svgear {

// Every occurrence of field `field`, in file order (protobuf merges repeated embedded messages and
// keeps the last scalar: callers that check values check them all). Throws UserError when the
// message is malformed: a varint past 10 bytes, a length past the end, a group or an unknown wire
// type.
std::vector<std::string_view> protobuf_bytes_fields(std::string_view message, uint32_t field);

}  // namespace svgear
