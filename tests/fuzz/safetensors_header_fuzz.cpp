// libFuzzer target: any byte string is a candidate .safetensors file. The parser must accept it
// or throw WeightsError; anything else (a crash, a sanitizer report, another exception) is a bug.

#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "core/weights/safetensors_header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr const char* kLabel = "fuzz.safetensors";
  try {
    svgear::parse_safetensors_header(data, size, kLabel);
  } catch (const svgear::WeightsError& e) {
    std::string message = e.what();
    // Messages reach the user through JSON events: they must name the file and be valid UTF-8
    // (dump() throws on invalid UTF-8, which the fuzzer reports).
    if (message.find(kLabel) == std::string::npos) std::abort();
    (void)nlohmann::json(message).dump();
  }
  return 0;
}
