// --decode: its help and its checks, from the decode mode table.
#include "cli/decode_flag.hpp"

#include "tilestream/core/error.hpp"

namespace tilestream::cli {

void add_decode_option(CLI::App& command, std::string& value) {
  command.add_option("--decode", value,
                     concat("With --device cuda, where JPEG tiles are decoded: ", codec::describe_decode_modes(),
                            "; default TILESTREAM_DECODE or auto. The report names the decoder that ran"));
}

std::optional<codec::DecodeMode> parse_decode_flag(const std::string& value, int device) {
  if (value.empty()) return std::nullopt;
  const codec::DecodeMode mode = codec::parse_decode_mode(value);
  check<UsageError>(device >= 0 || mode != codec::DecodeMode::gpu,
                    "--decode gpu decodes into device memory: it needs --device cuda (a CPU run decodes on the CPU)");
  return mode;
}

}  // namespace tilestream::cli
