#include "app/cli_args.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "core/sampling/seeded_noise.h"
#include "core/text/nearest_words.h"
#include "core/user_error.h"

namespace svgear {

CliArgs::CliArgs(int argc, char** argv, int first) {
  // An option given twice is a mistake to point out, not one to resolve silently (a script's
  // default and the user's value, two prompts pasted in).
  const auto once = [&](const std::string& name) {
    if (values_.count(name) || flags_.count(name)) throw UserError("--" + name + " is given twice: give it once");
  };
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h") arg = "--help";
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) {
      // A word processor's dash ("—steps", "–steps": a pasted command) or one hyphen ("-steps").
      // Which options this command has is not known yet: finish() names those near a "--" word.
      for (const char* dash : {"\u2014", "\u2013", "\u2212", "-"}) {
        const std::string rest = arg.rfind(dash, 0) == 0 ? arg.substr(std::string(dash).size()) : "";
        if (rest.size() > 1 && std::isalpha(static_cast<unsigned char>(rest.front()))) {
          throw UserError("unexpected argument '" + arg + "': an option starts with two hyphens (--" + rest + "), not '" +
                          dash + "'");
        }
      }
      throw UserError("unexpected argument '" + arg + "' (options look like --name value)");
    }
    arg = arg.substr(2);
    const auto eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    once(name);
    if (eq != std::string::npos) {
      values_[name] = arg.substr(eq + 1);
    } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
      values_[name] = argv[++i];
    } else {
      flags_.insert(name);
    }
  }
}

std::optional<std::string> CliArgs::text(const std::string& name) {
  known_.insert(name);
  if (flags_.count(name)) throw UserError("--" + name + " needs a value");
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::optional<int> CliArgs::integer(const std::string& name, int minimum, int maximum) {
  auto value = text(name);
  if (!value) return std::nullopt;
  char* end = nullptr;
  const long parsed = std::strtol(value->c_str(), &end, 10);
  if (value->empty() || std::isspace(static_cast<unsigned char>(value->front())) || *end != '\0') {
    throw UserError("--" + name + " expects a whole number, got '" + *value + "'");
  }
  // "+N" reads as "N more" (the GPU job's STEPS=+N means that), which an option never takes.
  if (value->front() == '+') {
    throw UserError("--" + name + " expects a whole number without a '+', got '" + *value +
                    "': the value is the option's own, not an increase (give --" + name + " " + value->substr(1) +
                    " for that value)");
  }
  // strtol's own overflow (LONG_MAX, LONG_MIN) lands outside every range too. A value past a bound
  // the option has names its range; one past a side it leaves open (the request checks it later)
  // names what an int holds.
  const bool has_minimum = minimum != -2147483647, has_maximum = maximum != 2147483647;
  if ((parsed > maximum && !has_maximum) || (parsed < minimum && !has_minimum)) {
    throw UserError("--" + name + " is out of range: " + *value + " is past " + (parsed < 0 ? "-" : "") + "2147483647");
  }
  if (parsed < minimum || parsed > maximum) {
    throw UserError("--" + name + " must be " +
                    (has_minimum && has_maximum ? "from " + std::to_string(minimum) + " to " + std::to_string(maximum)
                     : has_minimum             ? "at least " + std::to_string(minimum)
                                               : "at most " + std::to_string(maximum)) +
                    ", got " + *value);
  }
  return int(parsed);
}

std::optional<double> CliArgs::number(const std::string& name) {
  const auto value = text(name);
  if (!value) return std::nullopt;
  return parse_number(name, *value);
}

std::optional<uint64_t> CliArgs::seed(const std::string& generator, const std::string& made) {
  const auto text = this->text("seed");
  if (!text) return std::nullopt;
  if (*text == "random") {
    std::FILE* f = std::fopen("/dev/urandom", "rb");
    uint64_t seed = 0;
    const bool read = f && std::fread(&seed, sizeof seed, 1, f) == 1;
    if (f) std::fclose(f);
    if (!read) throw UserError("cannot read /dev/urandom for a random seed");
    return seed >> 33;  // [0, 2^31): fits the studio's seed box
  }
  // Digits, after one '+' as the fractional options take it (a seed names a video, and "+N" cannot
  // read as "N more" as it would for a count, which refuses it): strtoull would skip spaces, take
  // '-' (wrapping -1 to 2^64 − 1) and saturate past 2^64 − 1.
  const std::string digits = text->substr(!text->empty() && text->front() == '+' ? 1 : 0);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) {
    throw UserError("--seed expects a non-negative whole number or 'random', got '" + *text + "'");
  }
  errno = 0;
  const unsigned long long seed = std::strtoull(digits.c_str(), nullptr, 10);
  if (made.empty()) {  // a generator of 64 bits: any seed that fits them
    if (errno == ERANGE) throw UserError("--seed " + *text + " is past 18446744073709551615 (2^64 − 1)");
    return seed;
  }
  const std::string limit = std::to_string(kMaxSeed);
  if (errno == ERANGE) {
    throw UserError("--seed " + *text + " is past " + limit + ": seeds are 32 bits here: give one from 0 to " + limit);
  }
  if (seed > kMaxSeed) {
    throw UserError("--seed " + *text + " is past " + limit + ": the " + generator + " reads 32 bits, so it would give the " +
                    made + " of --seed " + std::to_string(seed & kMaxSeed));
  }
  return seed;
}

bool CliArgs::flag(const std::string& name) {
  known_.insert(name);
  if (values_.count(name)) throw UserError("--" + name + " takes no value");
  return flags_.count(name) > 0;
}

namespace {

// What other tools call our options (Wan's generate.py, diffusers, stable-diffusion.cpp) and our
// other commands' names for the same thing, each with the names it may mean here, first the best:
// edit distance alone would answer --sample_steps with nothing and --modes (bench's) with --model.
const std::map<std::string, std::vector<std::string>>& names_elsewhere() {
  static const std::map<std::string, std::vector<std::string>> names = {
      {"attn", {"attention", "modes"}},
      {"attention", {"modes"}},
      {"attention-mode", {"attention", "modes"}},
      {"base-seed", {"seed"}},
      {"cfg-scale", {"cfg"}},
      {"ckpt-dir", {"model"}},
      {"flow-shift", {"shift"}},
      {"frame-num", {"frames"}},
      {"guidance", {"cfg"}},
      {"guidance-scale", {"cfg"}},
      {"mode", {"attention", "modes"}},
      {"modes", {"attention"}},
      {"negative-prompt", {"negative"}},
      {"num-frames", {"frames"}},
      {"num-inference-steps", {"steps"}},
      {"out", {"output"}},
      {"output", {"out"}},
      {"sample-guide-scale", {"cfg"}},
      {"sample-shift", {"shift"}},
      {"sample-solver", {"sampler"}},
      {"sample-steps", {"steps"}},
      {"sampling-method", {"sampler"}},
      {"save-file", {"output", "out"}},
      {"t5-cpu", {"text-encoder-device"}},
      {"video-frames", {"frames"}},
  };
  return names;
}

}  // namespace

void CliArgs::finish() const {
  std::vector<std::string> unknown;
  for (const auto& [name, value] : values_) {
    if (!known_.count(name)) unknown.push_back(name);
  }
  for (const auto& name : flags_) {
    if (!known_.count(name)) unknown.push_back(name);
  }
  if (unknown.empty()) return;
  std::string listed;
  for (const std::string& name : unknown) {
    listed += " --" + name;
    // Dashes for underscores (--dense_steps, Python's spelling) and lower case (--STEPS), then
    // another tool's name for an option here, else the nearest accepted names when a typo or two
    // away (--promt, --ouput), but not for a short name that two edits turn into anything. Every
    // name at the nearest distance is named: one could hide the meaning the user had.
    std::string dashed = name;
    std::replace(dashed.begin(), dashed.end(), '_', '-');
    std::transform(dashed.begin(), dashed.end(), dashed.begin(), [](unsigned char c) { return std::tolower(c); });
    std::vector<std::string> nearest;
    if (known_.count(dashed)) nearest.push_back(dashed);
    if (const auto it = names_elsewhere().find(dashed); nearest.empty() && it != names_elsewhere().end()) {
      const auto meant = std::find_if(it->second.begin(), it->second.end(), [&](const std::string& m) { return known_.count(m) > 0; });
      if (meant != it->second.end()) nearest.push_back(*meant);
    }
    if (nearest.empty()) nearest = nearest_words(dashed, std::vector<std::string>(known_.begin(), known_.end()));
    if (nearest.empty()) continue;
    listed += " (did you mean " + alternatives(nearest, "--", "") + "?)";
  }
  std::string accepted;
  for (const auto& name : known_) accepted += " --" + name;
  throw UserError(std::string(unknown.size() == 1 ? "unknown option:" : "unknown options:") + listed + ". This command accepts:" + accepted);
}

double parse_number(const std::string& name, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  const double parsed = std::strtod(text.c_str(), &end);
  // No option takes NaN or infinity (1e999 reads as infinity): each would pass some range check
  // and poison the run (a training run of NaN losses that exports a NaN model).
  // strtod also reads hexadecimal ("0x10" is 16), which integer() refuses: decimal only.
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front())) || *end != '\0' ||
      !std::isfinite(parsed) || text.find_first_of("xX") != std::string::npos) {
    throw UserError("--" + name + " expects a finite number, got '" + text + "'");
  }
  // Past what a double holds near 0 (1e-400 read as 0, then refused as "got 0").
  if (errno == ERANGE) {
    throw UserError("--" + name + " " + text + " is too close to 0 for a number to hold (below about 1e-308)");
  }
  return parsed;
}

std::vector<std::string> split_list(const std::string& name, const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  std::string item;
  bool gap = !text.empty() && text.back() == ',';  // getline drops a trailing empty item
  while (std::getline(stream, item, ',')) {
    if (item.empty()) gap = true;
    else items.push_back(item);
  }
  if (items.empty()) throw UserError("--" + name + " lists nothing, got '" + text + "'");
  // "0.5,,0.9" most likely lost a value (a shell variable unset); guessing which is not ours.
  if (gap) {
    throw UserError("--" + name + " has an empty item in '" + text + "': separate the values with single commas");
  }
  return items;
}

}  // namespace svgear
