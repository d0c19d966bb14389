// The encode mode table, and names and defaults read from it.
#include "tilestream/zarr/encode_mode.hpp"

#include <array>

#include "tilestream/core/error.hpp"
#include "tilestream/core/mode_table.hpp"
#include "tilestream/core/settings.hpp"

namespace tilestream::zarr {
namespace {

constexpr std::array<EncodeModeInfo, 3> table{{
    {EncodeMode::automatic, "auto",
     "blosc chunks made on the GPU compressed there with nvCOMP where it loads (their blocks in parallel), "
     "others on CPU threads"},
    {EncodeMode::cpu, "cpu", "chunks copied to the host and compressed on CPU threads"},
    {EncodeMode::gpu, "gpu", "with nvCOMP on the GPU; fails where it is missing or the codecs cannot run there"},
}};

}  // namespace

std::span<const EncodeModeInfo> encode_modes() { return table; }

const EncodeModeInfo& info(EncodeMode mode) { return mode_entry<EncodeModeInfo>(table, mode, "encode mode"); }

EncodeMode parse_encode_mode(std::string_view text) { return parse_mode<EncodeModeInfo>(table, text, "encode mode"); }

const char* to_string(EncodeMode mode) { return info(mode).name.data(); }

std::string describe_encode_modes() { return describe_modes<EncodeModeInfo>(table); }

EncodeMode default_encode_mode() {
  static const EncodeMode mode =
      mode_setting<EncodeModeInfo>(table, default_settings().encode, "TILESTREAM_ENCODE", "encode mode", EncodeMode::automatic);
  return mode;
}

}  // namespace tilestream::zarr
