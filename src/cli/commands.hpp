// Sub-commands of the `tilestream` tool. Each file src/cli/<name>_command.cpp adds one sub-command
// to the app and maps its flags onto library calls; no logic of its own beyond that.
#pragma once

#include <CLI/CLI.hpp>

namespace tilestream::cli {

void add_convert_command(CLI::App& app);
void add_info_command(CLI::App& app);
void add_process_command(CLI::App& app);
void add_read_command(CLI::App& app);
void add_synth_command(CLI::App& app);

}  // namespace tilestream::cli
