// The --encode flag that every sub-command writing chunks it computes in device memory shares: one
// help text and one check, both from the encode mode table (zarr/encode_mode.hpp).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "tilestream/zarr/encode_mode.hpp"

namespace tilestream::cli {

// Adds --encode to `command`, storing the text in `value`.
void add_encode_option(CLI::App& command, std::string& value);

// The mode --encode asks for, nullopt when it was not given. UsageError for a name not in the table,
// and for gpu in a run without a device (device < 0): a CPU run compresses on the CPU.
std::optional<zarr::EncodeMode> parse_encode_flag(const std::string& value, int device);

}  // namespace tilestream::cli
