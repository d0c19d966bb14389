// The decode mode table, and names and defaults read from it.
#include "tilestream/codec/decode_mode.hpp"

#include <array>

#include "tilestream/core/error.hpp"
#include "tilestream/core/mode_table.hpp"
#include "tilestream/core/settings.hpp"

namespace tilestream::codec {
namespace {

constexpr std::array<DecodeModeInfo, 3> table{{
    {DecodeMode::automatic, "auto", "JPEG tiles with nvJPEG, JPEG 2000 with nvJPEG2000, on the GPU where they load, else on the CPU"},
    {DecodeMode::cpu, "cpu", "every tile on CPU threads, then uploaded"},
    {DecodeMode::gpu, "gpu", "JPEG tiles with nvJPEG, JPEG 2000 with nvJPEG2000; fails where the one a level needs is missing"},
}};

}  // namespace

std::span<const DecodeModeInfo> decode_modes() { return table; }

const DecodeModeInfo& info(DecodeMode mode) { return mode_entry<DecodeModeInfo>(table, mode, "decode mode"); }

DecodeMode parse_decode_mode(std::string_view text) { return parse_mode<DecodeModeInfo>(table, text, "decode mode"); }

const char* to_string(DecodeMode mode) { return info(mode).name.data(); }

std::string describe_decode_modes() { return describe_modes<DecodeModeInfo>(table); }

DecodeMode default_decode_mode() {
  static const DecodeMode mode =
      mode_setting<DecodeModeInfo>(table, default_settings().decode, "TILESTREAM_DECODE", "decode mode", DecodeMode::automatic);
  return mode;
}

void DecodeReport::add(const DecodeReport& other) {
  if (decoder.empty()) {
    decoder = other.decoder;
    detail = other.detail;
  }
  if (fallback_reason.empty()) fallback_reason = other.fallback_reason;
  tiles_gpu += other.tiles_gpu;
  tiles_cpu += other.tiles_cpu;
}

}  // namespace tilestream::codec
