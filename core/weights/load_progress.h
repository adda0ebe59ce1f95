#pragma once
// LoadProgress: how far a model's load has come, in bytes of its weight files read, for loads that
// take minutes (Wan2.1-14B: a 28 GB DiT and an 11 GB text encoder; the same DiT quantised to fp8
// on the CPU as it loads, several minutes more). The load names each part as it starts it, with
// its bytes, and counts each tensor as it reads it; the report hears of the part's start, of each
// further percent of it, and of its end — a hundred calls a part at most, however many tensors.

#include <cstdint>
#include <functional>
#include <string>

namespace svgear {

struct LoadStep {
  std::string part;  // "VAE", "text encoder", "diffusion model", "high-noise expert", …
  int64_t done = 0;  // bytes of the part's tensors read so far
  int64_t total = 0;
};

class LoadProgress {
 public:
  explicit LoadProgress(std::function<void(const LoadStep&)> report) : report_(std::move(report)) {}

  void start_part(std::string part, int64_t total_bytes);
  void tensor_read(int64_t bytes);  // outside a part: ignored
  void end_part();                  // reports the part whole

 private:
  std::function<void(const LoadStep&)> report_;
  LoadStep step_;
  int64_t next_report_ = 0;
  bool in_part_ = false;
};

}  // namespace svgear
