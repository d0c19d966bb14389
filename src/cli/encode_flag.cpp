// --encode: its help and its checks, from the encode mode table.
#include "cli/encode_flag.hpp"

#include "tilestream/core/error.hpp"

namespace tilestream::cli {

void add_encode_option(CLI::App& command, std::string& value) {
  command.add_option("--encode", value,
                     concat("With --device cuda, where compressed chunks are encoded: ", zarr::describe_encode_modes(),
                            "; default TILESTREAM_ENCODE or auto. The report names the encoder that ran"));
}

std::optional<zarr::EncodeMode> parse_encode_flag(const std::string& value, int device) {
  if (value.empty()) return std::nullopt;
  const zarr::EncodeMode mode = zarr::parse_encode_mode(value);
  check<UsageError>(device >= 0 || mode != zarr::EncodeMode::gpu,
                    "--encode gpu compresses in device memory: it needs --device cuda (a CPU run compresses on the CPU)");
  return mode;
}

}  // namespace tilestream::cli
