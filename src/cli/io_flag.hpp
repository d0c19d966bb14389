// The --io flag that every sub-command moving pixels to or from the GPU shares: one help text and one
// check, both from the io mode table (io/io_mode.hpp).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "tilestream/io/io_mode.hpp"

namespace tilestream::cli {

// Adds --io to `command`, storing the text in `value`; `what` says what it moves ("how raw tiles reach
// the GPU").
void add_io_option(CLI::App& command, std::string& value, const std::string& what);

// The mode --io asks for, nullopt when it was not given. UsageError for a name not in the table, and
// for a mode that only moves data to or from device memory when the run has no device (device < 0).
std::optional<io::IoMode> parse_io_flag(const std::string& value, int device);

}  // namespace tilestream::cli
