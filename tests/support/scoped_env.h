#pragma once
// ScopedEnv: an environment variable's value saved for a scope and put back after it (cleared when it
// had none), so a test may set or clear it and later tests of the same process read the real one.
// A child process started meanwhile inherits what the test set.

#include <cstdlib>
#include <optional>
#include <string>

namespace svgear::test {

class ScopedEnv {
 public:
  explicit ScopedEnv(const char* name) : name_(name) {
    if (const char* value = std::getenv(name)) saved_ = value;
  }
  ~ScopedEnv() { saved_ ? setenv(name_, saved_->c_str(), 1) : unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> saved_;
};

}  // namespace svgear::test
