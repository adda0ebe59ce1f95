#pragma once
// The `svgear` subcommands; each lives in its own cmd_*.cpp. argv[1] is the subcommand's name.

namespace svgear {

int cmd_bench(int argc, char** argv);
int cmd_compare(int argc, char** argv);
int cmd_eval(int argc, char** argv);
int cmd_generate(int argc, char** argv);
int cmd_info(int argc, char** argv);
int cmd_random_model(int argc, char** argv);
int cmd_train(int argc, char** argv);

}  // namespace svgear
