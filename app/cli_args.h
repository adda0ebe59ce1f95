#pragma once
// CliArgs: "--name value", "--name=value" and "--flag" options of one subcommand. Every option the
// subcommand reads is declared by reading it; finish() rejects anything left over, listing what the
// subcommand accepts.

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/user_error.h"

namespace svgear {

class CliArgs {
 public:
  CliArgs(int argc, char** argv, int first);  // parses argv[first..]; throws UserError on stray words

  std::optional<std::string> text(const std::string& name);
  // A whole number; outside [minimum, maximum] it throws UserError naming the option (a seed of -1,
  // 0 steps, 2^31 prompts).
  std::optional<int> integer(const std::string& name, int minimum = -2147483647, int maximum = 2147483647);
  std::optional<double> number(const std::string& name);
  // --seed: a whole number in [0, 2^32 − 1], or "random" (one in [0, 2^31) from /dev/urandom: the
  // studio's seed box holds up to 2^31 − 1, so a CLI run reopens there with its own seed). A seed past
  // 2^32 − 1 is refused, naming the seed with its low 32 bits, which the CPU generators read: both
  // would make the same `made` ("video", "weights") under two names. Where the command's generators
  // read 64 bits (training's mixed seeds, bench trace's mt19937_64), `made` is empty and any seed up
  // to 2^64 − 1 is taken: a training run started with an earlier version's 63-bit random seed resumes.
  std::optional<uint64_t> seed(const std::string& generator = "noise generator", const std::string& made = "video");
  bool flag(const std::string& name);
  // Whether --name was typed, without making it one of the command's options (finish() lists
  // those): for an option read only to be refused with its reason.
  bool given(const std::string& name) const { return values_.count(name) > 0 || flags_.count(name) > 0; }
  void finish() const;  // throws UserError for unknown options, each with the nearest accepted name

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> flags_;
  std::set<std::string> known_;
};

// `text` as number() reads option `name`'s value (a list's items too): a finite decimal number,
// else UserError naming the option.
double parse_number(const std::string& name, const std::string& text);

// The comma-separated items of option `name`'s value; an empty list ("", ",": an unset shell
// variable) is refused rather than read as "nothing to run", and so is an empty item ("0.5,,0.9",
// "0.5,").
std::vector<std::string> split_list(const std::string& name, const std::string& text);

// Throws UserError when the list option `name` gives one value twice: it would run twice under
// one label (--modes svgear,svg-ear, --budgets 0.5,0.5).
template <class T>
void refuse_repeats(const std::string& name, const std::vector<T>& items) {
  for (size_t i = 0; i < items.size(); ++i) {
    const auto first = std::find(items.begin(), items.begin() + i, items[i]);
    if (first != items.begin() + i) {
      throw UserError("--" + name + " names one value twice (items " + std::to_string(first - items.begin() + 1) +
                      " and " + std::to_string(i + 1) + "): each runs once");
    }
  }
}

}  // namespace svgear
