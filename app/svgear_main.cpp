// svgear: the command-line front end of SVG-EAR Studio's engine.

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/commands.h"
#include "app/terminal_text.h"
#include "core/io/file_system_trouble.h"
#include "core/text/nearest_words.h"
#include "core/user_error.h"
#include "svgear/build_config.h"

namespace {

constexpr const char* kUsage = R"(usage: svgear <command> [options]

commands:
  generate      text → video with a model folder (see `svgear generate --help`)
  compare       the same request with dense and sparse attention: both videos, PSNR / SSIM, speed
  bench         `svgear bench attention|step|trace`: attention calls, whole steps, trace files
  info          build configuration, LibTorch, devices and the models found
  random-model  write a model folder with random weights (tests, benchmarks, first runs)
  train         train a built-in shapes-world model (resumable; see `svgear train --help`)
  eval          prompt adherence of a shapes-world model, dense against sparse attention
  help          this list; `svgear help <command>` is `svgear <command> --help`
  --version     the version, build type and LibTorch (`svgear info` tells more)
)";

int run(int argc, char** argv) {
  // A reader that went away (`| tee log` stopped by the same Ctrl-C, `| head`) or a file-size limit
  // must fail the write that meets it, not end the process there: a training run logs a line before
  // its final save, and the writers say what failed and remove their temporary files.
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGXFSZ, SIG_IGN);
  const auto is_help = [](const char* word) { return !std::strcmp(word, "--help") || !std::strcmp(word, "-h"); };
  const bool help = argc >= 2 && !std::strcmp(argv[1], "help");
  const bool version = argc >= 2 && (!std::strcmp(argv[1], "--version") || !std::strcmp(argv[1], "version"));
  // `svgear help bench step`: a bench's two words name one command.
  const bool bench_command = help && argc == 4 && !std::strcmp(argv[2], "bench") &&
                             (!std::strcmp(argv[3], "attention") || !std::strcmp(argv[3], "step") ||
                              !std::strcmp(argv[3], "trace"));
  if ((help || version) && argc > (help ? (bench_command ? 4 : 3) : 2)) {
    std::fprintf(stderr, "error: svgear %s takes %s, not '%s'\n", argv[1], help ? "one command" : "nothing more",
                 svgear::printable(argv[help ? 3 : 2], false).c_str());
    return 2;
  }
  // `svgear help help` and `svgear help --version` ask about entries of the list too.
  const bool help_of_list = help && argc == 3 && (!std::strcmp(argv[2], "help") || !std::strcmp(argv[2], "--version") ||
                                                  !std::strcmp(argv[2], "version"));
  if (argc < 2 || is_help(argv[1]) || (help && (argc == 2 || is_help(argv[2]) || help_of_list))) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (version) {
    std::printf("svgear %s (%s, LibTorch %s)\n", SVGEAR_VERSION, SVGEAR_BUILD_TYPE, SVGEAR_TORCH_VERSION);
    return 0;
  }
  // `svgear help generate`: the command's own help.
  std::string help_flag = "--help";
  if (help && bench_command) {
    argv[1] = argv[2];
    argv[2] = argv[3];
    argv[3] = help_flag.data();
  } else if (help) {
    argv[1] = argv[2];
    argv[2] = help_flag.data();
    argc = 3;
  }
  try {
    const std::pair<std::string, int (*)(int, char**)> commands[] = {
        {"generate", svgear::cmd_generate}, {"compare", svgear::cmd_compare}, {"bench", svgear::cmd_bench},
        {"info", svgear::cmd_info},         {"random-model", svgear::cmd_random_model},
        {"train", svgear::cmd_train},       {"eval", svgear::cmd_eval}};
    std::vector<std::string> names;
    for (const auto& [name, command] : commands) {
      if (name == argv[1]) return command(argc, argv);
      names.push_back(name);
    }
    // A command begun ("gen") or mistyped ("genrate", "--versoin"); an option's typo list does the
    // same for options.
    for (const char* entry : {"help", "--help", "version", "--version"}) names.push_back(entry);
    std::vector<std::string> meant;
    const std::string_view typed = argv[1];
    for (const std::string& name : names) {
      if (typed.size() >= 2 && name.compare(0, typed.size(), typed) == 0) meant.push_back(name);
    }
    if (meant.empty()) meant = svgear::nearest_words(typed, names);
    const std::string hint = meant.empty() ? "" : " (did you mean " + svgear::alternatives(meant, "", "") + "?)";
    std::fprintf(stderr, "error: unknown command '%s'%s\n\n%s", svgear::printable(argv[1], false).c_str(),
                 hint.c_str(), kUsage);
    return 2;
  } catch (const svgear::UserError& e) {
    std::fprintf(stderr, "error: %s\n", svgear::printable(e.what()).c_str());
    return 2;
  } catch (const std::filesystem::filesystem_error& e) {  // a path the user gave: a link loop, a name too long
    std::fprintf(stderr, "error: %s\n",
                 svgear::printable(svgear::file_system_trouble("svgear " + std::string(argv[1]), e).what()).c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "internal error: %s\n", svgear::printable(e.what()).c_str());
    return 3;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int code = run(argc, argv);
  // What a command printed (bench's table, info's report) to a full disk or a closed stdout is
  // lost: say so, and fail as a write of the command's own files would. A reader that went away
  // (`| head`) chose to stop reading: no message for that.
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    if (errno == EPIPE) return code;
    std::fprintf(stderr, "error: what this command printed could not all be written to the standard output%s%s\n",
                 errno ? ": " : "", errno ? std::strerror(errno) : "");
    return code == 0 ? 2 : code;
  }
  return code;
}
