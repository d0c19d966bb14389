// Sub-commands of the `tilestream` tool. Each file src/cli/<name>_command.cpp adds one sub-command
// to the app and maps its flags onto library calls; no logic of its own beyond that. The Python
// package's convert() and process() run the same sub-commands with hooks of their own.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>

namespace tilestream::cli {

// How a long-running sub-command (convert, process) talks to whoever started it. The command line
// leaves them unset: a progress bar on a terminal, totals on stderr and, with --json, the report on
// stdout. The Python package sets them: progress to its callback, a stop on Ctrl-C, and the report
// returned as a dict, nothing printed.
struct RunHooks {
  // Blocks done (skipped ones included) of the total, skipped (resume), encoded bytes written. Called
  // from worker threads, one call at a time, at most every 200 ms and at the end of each array.
  std::function<void(std::uint64_t done, std::uint64_t total, std::uint64_t skipped, std::uint64_t bytes)> progress;
  // pipeline::RunOptions::stop: asked before each block; true stops the run with StoppedError.
  std::function<bool()> stop;
  // Receives the run report (the JSON --json prints) instead of anything being printed.
  std::function<void(nlohmann::json)> report;
};

void add_convert_command(CLI::App& app, const RunHooks& hooks = {});
void add_info_command(CLI::App& app);
void add_process_command(CLI::App& app, const RunHooks& hooks = {});
void add_read_command(CLI::App& app);
void add_synth_command(CLI::App& app);

}  // namespace tilestream::cli
