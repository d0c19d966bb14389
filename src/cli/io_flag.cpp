// --io: its help and its checks, from the io mode table.
#include "cli/io_flag.hpp"

#include "tilestream/core/error.hpp"

namespace tilestream::cli {

void add_io_option(CLI::App& command, std::string& value, const std::string& what) {
  command.add_option("--io", value,
                     concat("With --device cuda, ", what, ": ", io::describe_io_modes(), "; default TILESTREAM_IO or auto"));
}

std::optional<io::IoMode> parse_io_flag(const std::string& value, int device) {
  if (value.empty()) return std::nullopt;
  const io::IoMode mode = io::parse_io_mode(value);
  check<UsageError>(device >= 0 || io::info(mode).host_too, "--io ", value,
                    " moves data to or from device memory: it needs --device cuda");
  return mode;
}

}  // namespace tilestream::cli
