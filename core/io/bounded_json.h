#pragma once
// parse_bounded_json: nlohmann's parser with a limit on nesting, for JSON from files a user hands
// over (model.json, config.json, a shard index, tokenizer.json, run records). nlohmann copies,
// prints and compares values recursively: a file a megabyte deep overflows the stack there, long
// after parsing succeeded. Our files nest a few levels.

#include <cstdint>
#include <filesystem>
#include <istream>
#include <string>

#include <nlohmann/json.hpp>

namespace svgear {

constexpr int kMaxJsonDepth = 64;

// Throws nlohmann::json::exception (as parse errors do) for a document nested deeper than
// kMaxJsonDepth, a key given twice in one object or a stream that fails to read (a folder opened
// as a file), so callers' handlers for bad JSON cover them. Linear in the document's size
// (JsonTreeBuilder).
nlohmann::json parse_bounded_json(std::istream& in);

// The error both JSON readers throw for a key given twice in one object (nlohmann would keep the
// last value without a word).
nlohmann::json::other_error repeated_json_key(const std::string& key);

// What went wrong in `error`, for a message to a user: nlohmann's "[json.exception.type_error.302] "
// prefix dropped, and the input it quotes ("last read: '…'", the file's own bytes: ill-formed UTF-8,
// a terminal escape) as printable ASCII, '?' for any other byte, at most 200 characters.
std::string json_error_text(const nlohmann::json::exception& error);

// Throws nlohmann::json::exception (as a malformed field does) naming the field, the range it must
// be in and the value, when `ok` is false: a hand-edited file's negative batch or clip of -8 frames
// is then reported by the readers' handlers for bad JSON, which name the file.
void require_json_field(bool ok, const std::string& name, const std::string& range, const nlohmann::json& value);

// The JSON in `path` when it is a regular file of at most `max_bytes` that parses; null otherwise
// (missing, larger, not JSON). For "is this existing file one of ours?" before replacing it: a file
// larger than ours is not one, and is not read whole.
nlohmann::json read_json_if_small(const std::filesystem::path& path, uintmax_t max_bytes);

// Throws UserError when `path` exists and is not a regular file (a link to one is fine), naming
// `role` ("a model folder's model.json"): opening a FIFO blocks until someone writes, so files read
// without the user naming them (the model scans' model.json and config.json) check first.
void require_regular_file(const std::filesystem::path& path, const std::string& role);

// Whether `value` is a whole number an int holds. nlohmann's get<int>() casts: 2^32 + 1 reads as 1
// and 2.5 as 2, so fields read as int from user files check this first.
bool is_int_number(const nlohmann::json& value);

// What a field that is_int_number refused must be: "a whole number up to 2147483647", and for a
// whole float an int holds (1e3 reads as 1000.0) how to write it ("(1000)").
std::string whole_number_expected(const nlohmann::json& value);

// `value` (the field `name`) as an int; throws nlohmann::json::exception, as at() does for a
// missing key, when it is not a whole number an int holds, so callers' handlers for bad JSON
// cover it.
int json_int(const nlohmann::json& value, const std::string& name);

}  // namespace svgear
