#pragma once
// file_system_trouble: a std::filesystem error met while reading what a user handed over (a model
// folder's shards, its tokenizer, its config.json) as a UserError naming the path and the reason.
// A link loop, a name too long for the system or a folder where a file should be are the files'
// fault, not the program's: exit status 2 and a message, not an internal error.

#include <filesystem>
#include <string>

#include "core/user_error.h"

namespace svgear {

// "<doing>: '<path>': <reason>", e.g. "could not read the model in '/m': '/m/x.safetensors': Too
// many levels of symbolic links".
UserError file_system_trouble(const std::string& doing, const std::filesystem::filesystem_error& e);

// Why opening a file failed, from the open's errno, with what to do where there is something:
// "no such file (check the path)", "permission denied (make the file readable)", else the
// system's words ("it could not be opened" when errno said nothing).
std::string open_failure(int err);

}  // namespace svgear
