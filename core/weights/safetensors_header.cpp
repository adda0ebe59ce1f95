#include "core/weights/safetensors_header.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "core/io/json_tree_builder.h"

namespace svgear {
namespace {

using nlohmann::json;

constexpr const char* kCorrupt = "the file is truncated or corrupt: download or copy it again";
constexpr const char* kSupportedDtypes = "F32, F16, BF16, F8_E4M3, I64, I32, U8, BOOL";

constexpr WeightDtype kAllDtypes[] = {WeightDtype::F32,     WeightDtype::F16, WeightDtype::BF16,
                                      WeightDtype::F8_E4M3, WeightDtype::I64, WeightDtype::I32,
                                      WeightDtype::U8,      WeightDtype::Bool};

// Names and values come from the file: cut long ones (at a UTF-8 boundary, so the message stays
// valid UTF-8) to keep messages readable.
std::string quote_name(std::string_view text) {
  constexpr size_t kMaxChars = 120;
  if (text.size() <= kMaxChars) return "'" + std::string(text) + "'";
  size_t cut = kMaxChars;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return "'" + std::string(text.substr(0, cut)) + "...'";
}

// nlohmann's messages quote the offending bytes verbatim, which may be invalid UTF-8.
std::string printable_ascii(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 200)) out += (c >= 0x20 && c < 0x7F) ? c : '?';
  return out;
}

[[noreturn]] void fail(std::string_view label, std::string_view what, std::string_view advice) {
  throw WeightsError(std::string(label) + ": " + std::string(what) + " (" + std::string(advice) +
                     ")");
}

[[noreturn]] void fail_tensor(std::string_view label, std::string_view tensor,
                              std::string_view what, std::string_view advice = kCorrupt) {
  fail(label, "tensor " + quote_name(tensor) + ": " + std::string(what), advice);
}

std::string format_shape(const std::vector<int64_t>& shape) {
  constexpr size_t kMaxDims = 12;
  std::string out = "[";
  for (size_t i = 0; i < shape.size() && i < kMaxDims; ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  if (shape.size() > kMaxDims) out += ", ... (" + std::to_string(shape.size()) + " dims)";
  return out + "]";
}

// "an array", "a number", ...
std::string kind_of(const json& value) {
  std::string name = value.type_name();
  return (name[0] == 'a' || name[0] == 'o' ? "an " : "a ") + name;
}

WeightDtype parse_dtype(std::string_view name) {
  for (WeightDtype dtype : kAllDtypes) {
    if (name == weight_dtype_name(dtype)) return dtype;
  }
  return WeightDtype::Unset;
}

const json& require_field(const json& entry, const char* field, std::string_view label,
                          std::string_view tensor) {
  auto it = entry.find(field);
  if (it == entry.end()) fail_tensor(label, tensor, std::string("missing \"") + field + "\"");
  return *it;
}

// A JSON number that is a non-negative integer fitting in int64 (dimensions and offsets both are,
// so that byte counts later fit the signed sizes LibTorch uses).
uint64_t require_count(const json& value, const char* what, std::string_view label,
                       std::string_view tensor) {
  if (value.is_number_unsigned()) {
    uint64_t v = value.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail_tensor(label, tensor, std::string(what) + " " + std::to_string(v) + " is too large");
    }
    return v;
  }
  // "-0" parses as a signed zero.
  if (value.is_number_integer() && value.get<int64_t>() == 0) return 0;
  if (value.is_number_integer()) {
    fail_tensor(label, tensor,
                std::string(what) + " " + std::to_string(value.get<int64_t>()) + " is negative");
  }
  if (value.is_number_float()) {
    // A whole number past 2^64 − 1 parses as a double: too large (or negative), not a fraction.
    const double x = value.get<double>();
    const bool whole = std::isfinite(x) && std::trunc(x) == x;
    fail_tensor(label, tensor,
                std::string(what) + " " + value.dump() +
                    (whole && x < 0                                               ? " is negative"
                     : whole && x >= double(std::numeric_limits<int64_t>::max()) ? " is too large"
                                                                                 : " is not an integer"));
  }
  fail_tensor(label, tensor, std::string(what) + " is " + kind_of(value) + ", not an integer");
}

TensorEntry parse_entry(const std::string& name, const json& entry, uint64_t data_size,
                        std::string_view label) {
  if (!entry.is_object()) {
    fail_tensor(label, name, "the entry is " + kind_of(entry) + ", not an object");
  }
  TensorEntry out;
  out.name = name;

  const json& dtype = require_field(entry, "dtype", label, name);
  if (!dtype.is_string()) fail_tensor(label, name, "\"dtype\" is not a string");
  out.dtype = parse_dtype(dtype.get_ref<const std::string&>());
  if (out.dtype == WeightDtype::Unset) {
    fail_tensor(label, name,
                "unsupported dtype " + quote_name(dtype.get_ref<const std::string&>()) +
                    "; supported dtypes are " + kSupportedDtypes,
                "convert the file to one of the supported dtypes");
  }

  const json& shape = require_field(entry, "shape", label, name);
  if (!shape.is_array()) fail_tensor(label, name, "\"shape\" is not an array");
  // Model weights have at most 5 (a 3-d convolution); millions would reach at::empty.
  constexpr size_t kMaxShapeDims = 16;
  if (shape.size() > kMaxShapeDims) {
    fail_tensor(label, name, "\"shape\" has " + std::to_string(shape.size()) + " dimensions, more than a weight's " +
                                 std::to_string(kMaxShapeDims));
  }
  out.shape.reserve(shape.size());  // bounded by the header size, which was checked
  // The product of max(dim, 1) bounds every contiguous stride, so it must fit too.
  uint64_t stride_bound = 1;
  uint64_t numel = 1;
  for (const json& dim : shape) {
    uint64_t d = require_count(dim, "dimension", label, name);
    out.shape.push_back(static_cast<int64_t>(d));
    if (__builtin_mul_overflow(stride_bound, std::max<uint64_t>(d, 1), &stride_bound) ||
        stride_bound > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail_tensor(label, name, "shape has too many elements (more than 2^63)");
    }
    numel *= d;  // cannot overflow: numel <= stride_bound
  }
  uint64_t expected_bytes = 0;
  if (__builtin_mul_overflow(numel, static_cast<uint64_t>(weight_dtype_bytes(out.dtype)),
                             &expected_bytes)) {
    fail_tensor(label, name, "shape " + format_shape(out.shape) + " has more than 2^64 bytes");
  }

  const json& offsets = require_field(entry, "data_offsets", label, name);
  if (!offsets.is_array() || offsets.size() != 2) {
    fail_tensor(label, name, "\"data_offsets\" is not an array [begin, end]");
  }
  out.data_begin = require_count(offsets[0], "data offset", label, name);
  out.data_end = require_count(offsets[1], "data offset", label, name);
  std::string range =
      "[" + std::to_string(out.data_begin) + ", " + std::to_string(out.data_end) + "]";
  if (out.data_begin > out.data_end) {
    fail_tensor(label, name, "data_offsets " + range + " end before they begin");
  }
  if (out.data_end > data_size) {
    fail_tensor(label, name,
                "data_offsets " + range + " reach past the end of the data section (" +
                    std::to_string(data_size) + " bytes)");
  }
  if (out.data_end - out.data_begin != expected_bytes) {
    fail_tensor(label, name,
                "shape " + format_shape(out.shape) + " of " + weight_dtype_name(out.dtype) +
                    " needs " + std::to_string(expected_bytes) + " bytes but data_offsets " +
                    range + " hold " + std::to_string(out.data_end - out.data_begin));
  }
  return out;
}

// The header as JsonTreeBuilder builds it, but for the "__metadata__" object's string members,
// which go straight into the header's map: built as a tree and then copied, a hostile 59 MB header
// of 4 M metadata keys took 10 s and 1.2 GB per read. A member that is no string goes into the tree
// under "__metadata__", through the tree's checks, and is refused after the parse as before, so
// every malformed header gets the message it always got. Duplicates in every object are refused as
// they are read: nlohmann keeps the last of them silently, and a file with two tensors of one name
// is ambiguous.
class HeaderReader {
 public:
  explicit HeaderReader(std::string_view label)
      : label_(label),
        // root → entry → its shape or offsets: nothing nests deeper. nlohmann would build every
        // level of a hostile "[[[[…" (GBs for a 100 MB header) before the entries are checked.
        tree_(
            [label](int depth) {
              if (depth > 2) fail(label, "the header nests deeper than a safetensors header does", kCorrupt);
            },
            [this](int depth, const std::string& key, bool repeated) {
              if (depth == 1) {
                tensor_ = key;
                if (repeated) fail_tensor(label_, key, "the name appears twice in the header");
              } else if (repeated) {
                if (tensor_) fail_tensor(label_, *tensor_, "field " + quote_name(key) + " appears twice");
                fail(label_, "key " + quote_name(key) + " appears twice in one object", kCorrupt);
              }
            }) {}

  json take_tree() { return tree_.take(); }
  std::map<std::string, std::string> take_metadata() { return std::move(metadata_); }

  // The SAX interface nlohmann::json::sax_parse calls.
  bool null() { return to_tree() && tree_.null(); }
  bool boolean(bool v) { return to_tree() && tree_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return to_tree() && tree_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return to_tree() && tree_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const json::string_t& text) {
    return to_tree() && tree_.number_float(v, text);
  }
  bool binary(json::binary_t& v) { return to_tree() && tree_.binary(v); }
  bool string(json::string_t& v) {
    if (at_metadata_member()) {
      metadata_value_->second = std::move(v);
      return true;
    }
    return to_tree() && tree_.string(v);
  }
  bool start_array(std::size_t size) { return to_tree() && open() && tree_.start_array(size); }
  bool start_object(std::size_t size) {
    if (metadata_key_pending_) {  // the metadata object itself
      metadata_key_pending_ = false;
      in_metadata_ = true;
      return true;
    }
    return to_tree() && open() && tree_.start_object(size);
  }
  bool end_array() { return close() && tree_.end_array(); }
  bool end_object() {
    if (at_metadata_member()) {  // the metadata object's end
      in_metadata_ = false;
      if (!tree_metadata_open_) return true;
      tree_metadata_open_ = false;
      return close() && tree_.end_object();
    }
    return close() && tree_.end_object();
  }
  bool key(json::string_t& key) {
    if (at_metadata_member()) {
      if (non_string_keys_.contains(key)) fail(label_, "metadata " + quote_name(key) + " appears twice", kCorrupt);
      auto [member, added] = metadata_.try_emplace(std::move(key));
      if (!added) fail(label_, "metadata " + quote_name(member->first) + " appears twice", kCorrupt);
      metadata_value_ = member;
      return true;
    }
    if (depth_ == 1 && !in_metadata_ && key == "__metadata__") {
      if (metadata_seen_) fail_tensor(label_, key, "the name appears twice in the header");
      metadata_seen_ = metadata_key_pending_ = true;
      return true;
    }
    return tree_.key(key);
  }
  template <class Exception>
  bool parse_error(std::size_t position, const std::string& last_token, const Exception& error) {
    return tree_.parse_error(position, last_token, error);
  }

 private:
  // At a member of the metadata object itself (not inside one of its values): the object is in the
  // tree, one level deeper, once a member that is no string has taken it there.
  bool at_metadata_member() const { return in_metadata_ && depth_ == (tree_metadata_open_ ? 2 : 1); }

  // Before a value that goes into the tree: a "__metadata__" that is no object goes there with its
  // key, and a metadata member that is no string goes there under the tree's "__metadata__".
  bool to_tree() {
    if (metadata_key_pending_) {
      metadata_key_pending_ = false;
      std::string key = "__metadata__";
      tree_.key(key);
    } else if (at_metadata_member()) {
      if (!tree_metadata_open_) {
        std::string key = "__metadata__";
        tree_.key(key);
        open();
        tree_.start_object(0);
        tree_metadata_open_ = true;
      }
      std::string key = metadata_value_->first;
      metadata_.erase(metadata_value_);
      non_string_keys_.insert(key);
      tree_.key(key);
    }
    return true;
  }
  bool open() {
    ++depth_;
    return true;
  }
  bool close() {
    --depth_;
    return true;
  }

  std::string_view label_;
  JsonTreeBuilder tree_;
  std::optional<std::string> tensor_;  // the current top-level key, when the root is an object
  int depth_ = 0;                      // containers open in the tree
  bool metadata_seen_ = false, metadata_key_pending_ = false, in_metadata_ = false, tree_metadata_open_ = false;
  std::map<std::string, std::string> metadata_;
  std::map<std::string, std::string>::iterator metadata_value_;
  std::set<std::string> non_string_keys_;  // metadata members in the tree
};

struct ParsedHeader {
  json tree;  // every entry but an object "__metadata__"
  std::map<std::string, std::string> metadata;
};

ParsedHeader parse_header_json(const char* begin, const char* end, std::string_view label) {
  try {
    HeaderReader reader(label);
    json::sax_parse(begin, end, &reader);
    return {reader.take_tree(), reader.take_metadata()};
  } catch (const json::exception& e) {
    // e.what() is "[json.exception.<kind>] <description>; last read: '<input bytes>'"; only the
    // description is ours to inspect, the quoted input could say anything.
    std::string_view what = e.what();
    if (size_t prefix = what.find("] "); prefix != std::string_view::npos) {
      what.remove_prefix(prefix + 2);
    }
    std::string_view description = what.substr(0, what.find("; last read"));
    bool utf8 = description.find("ill-formed UTF-8") != std::string_view::npos;
    fail(label,
         std::string(utf8 ? "the header is not valid UTF-8 (" : "the header is not valid JSON (") +
             printable_ascii(what) + ")",
         kCorrupt);
  }
}

}  // namespace

bool weight_dtype_is_float(WeightDtype dtype) {
  return dtype == WeightDtype::F32 || dtype == WeightDtype::F16 || dtype == WeightDtype::BF16 ||
         dtype == WeightDtype::F8_E4M3;
}

int weight_dtype_bytes(WeightDtype dtype) {
  switch (dtype) {
    case WeightDtype::F32: return 4;
    case WeightDtype::F16: return 2;
    case WeightDtype::BF16: return 2;
    case WeightDtype::F8_E4M3: return 1;
    case WeightDtype::I64: return 8;
    case WeightDtype::I32: return 4;
    case WeightDtype::U8: return 1;
    case WeightDtype::Bool: return 1;
    case WeightDtype::Unset: return 0;
  }
  return 0;
}

const char* weight_dtype_name(WeightDtype dtype) {
  switch (dtype) {
    case WeightDtype::F32: return "F32";
    case WeightDtype::F16: return "F16";
    case WeightDtype::BF16: return "BF16";
    case WeightDtype::F8_E4M3: return "F8_E4M3";
    case WeightDtype::I64: return "I64";
    case WeightDtype::I32: return "I32";
    case WeightDtype::U8: return "U8";
    case WeightDtype::Bool: return "BOOL";
    case WeightDtype::Unset: return "unset";
  }
  return "unset";
}

SafetensorsHeader parse_safetensors_header(const uint8_t* file_data, uint64_t file_size,
                                           std::string_view file_label) {
  if (file_size < 8) {
    fail(file_label,
         "the file has " + std::to_string(file_size) +
             " bytes, fewer than the 8-byte header length of a safetensors file",
         kCorrupt);
  }
  const uint64_t header_bytes = safetensors_header_length(file_data);
  // Another kind of file (a video, a pickle) claims whatever length its first bytes make: named as
  // such, not as a download cut short.
  if (header_bytes > file_size - 8 && file_size > 8 && file_data[8] != '{') {
    fail(file_label,
         "this is not a safetensors file: one starts with its header's length in 8 bytes, then the header's '{'",
         "check that this is the file meant, or download or copy it again");
  }
  if (header_bytes > file_size - 8) {
    fail(file_label,
         "the header claims " + std::to_string(header_bytes) + " bytes but the file has only " +
             std::to_string(file_size - 8) + " after the length field",
         kCorrupt);
  }
  if (header_bytes > kMaxSafetensorsHeaderBytes) {
    fail(file_label,
         "the header claims " + std::to_string(header_bytes) + " bytes, above the " +
             std::to_string(kMaxSafetensorsHeaderBytes) + "-byte limit",
         "this is not a safetensors file, or it is corrupt: download or copy it again");
  }

  const char* text = reinterpret_cast<const char*>(file_data + 8);
  ParsedHeader parsed = parse_header_json(text, text + header_bytes, file_label);
  const json& root = parsed.tree;
  if (!root.is_object()) {
    fail(file_label, "the header is " + kind_of(root) + ", not an object", kCorrupt);
  }

  SafetensorsHeader header;
  header.data_offset = 8 + header_bytes;
  uint64_t data_size = file_size - header.data_offset;
  header.tensors.reserve(root.size());
  for (const auto& [name, entry] : root.items()) {
    if (name == "__metadata__") {  // in the tree only when no object, or with its members that are no string
      if (!entry.is_object()) fail(file_label, "\"__metadata__\" is " + kind_of(entry) + ", not an object", kCorrupt);
      const auto first = entry.begin();  // the first name that is no string, as the names sort
      fail(file_label, "metadata " + quote_name(first.key()) + " is " + kind_of(first.value()) + ", not a string",
           kCorrupt);
    }
    header.tensors.push_back(parse_entry(name, entry, data_size, file_label));
  }
  header.metadata = std::move(parsed.metadata);

  std::sort(header.tensors.begin(), header.tensors.end(),
            [](const TensorEntry& a, const TensorEntry& b) {
              if (a.data_begin != b.data_begin) return a.data_begin < b.data_begin;
              if (a.data_end != b.data_end) return a.data_end < b.data_end;
              return a.name < b.name;
            });
  // Empty ranges share no bytes, so only non-empty ones can overlap.
  const TensorEntry* furthest = nullptr;
  uint64_t covered = 0;              // the data section's bytes before the first byte no tensor holds
  uint64_t uncovered_end = data_size;  // and the end of the bytes no tensor holds from there
  for (const TensorEntry& entry : header.tensors) {
    if (entry.data_begin == entry.data_end) continue;
    if (furthest && entry.data_begin < furthest->data_end) {
      fail_tensor(file_label, entry.name,
                  "its data [" + std::to_string(entry.data_begin) + ", " +
                      std::to_string(entry.data_end) + "] overlaps tensor " +
                      quote_name(furthest->name) + " [" + std::to_string(furthest->data_begin) +
                      ", " + std::to_string(furthest->data_end) + "]");
    }
    if (entry.data_begin != covered) {
      uncovered_end = entry.data_begin;
      break;
    }
    covered = entry.data_end;
    if (!furthest || entry.data_end > furthest->data_end) furthest = &entry;
  }
  // As the format requires (and its reference reader checks): every data byte belongs to a tensor.
  // A header length one byte short shifts every tensor by a byte and leaves the last one uncovered:
  // the weights would load as noise.
  if (covered != data_size) {
    fail(file_label,
         "the tensors do not hold the whole data section: its bytes from " + std::to_string(covered) + " to " +
             std::to_string(uncovered_end) + " belong to no tensor",
         kCorrupt);
  }
  return header;
}

}  // namespace svgear
