// The --decode flag that every sub-command reading compressed tiles into device memory shares: one
// help text and one check, both from the decode mode table (codec/decode_mode.hpp).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "tilestream/codec/decode_mode.hpp"

namespace tilestream::cli {

// Adds --decode to `command`, storing the text in `value`.
void add_decode_option(CLI::App& command, std::string& value);

// The mode --decode asks for, nullopt when it was not given. UsageError for a name not in the table,
// and for gpu in a run without a device (device < 0): a CPU run decodes on the CPU.
std::optional<codec::DecodeMode> parse_decode_flag(const std::string& value, int device);

}  // namespace tilestream::cli
