// The decode mode table, and names and defaults read from it.
#include "tilestream/codec/decode_mode.hpp"

#include <array>

#include "tilestream/core/error.hpp"
#include "tilestream/core/settings.hpp"

namespace tilestream::codec {
namespace {

constexpr std::array<DecodeModeInfo, 3> table{{
    {DecodeMode::automatic, "auto", "JPEG tiles with nvJPEG on the GPU where it loads, else on the CPU"},
    {DecodeMode::cpu, "cpu", "every tile on CPU threads, then uploaded"},
    {DecodeMode::gpu, "gpu", "JPEG tiles with nvJPEG; fails where it is missing"},
}};

}  // namespace

std::span<const DecodeModeInfo> decode_modes() { return table; }

const DecodeModeInfo& info(DecodeMode mode) {
  for (const DecodeModeInfo& entry : table)
    if (entry.mode == mode) return entry;
  throw UsageError(concat("decode mode ", static_cast<int>(mode), " is not in the decode mode table"));
}

DecodeMode parse_decode_mode(std::string_view text) {
  std::string names;
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (table[i].name == text) return table[i].mode;
    names += concat(i == 0 ? "" : i + 1 == table.size() ? " or " : ", ", table[i].name);
  }
  throw UsageError(concat("decode mode must be ", names, ", not '", text, "'"));
}

const char* to_string(DecodeMode mode) { return info(mode).name.data(); }

std::string describe_decode_modes() {
  std::string text;
  for (const DecodeModeInfo& entry : table) {
    text += concat(text.empty() ? "" : ", ", entry.name, " (", entry.summary, ")");
  }
  return text;
}

DecodeMode default_decode_mode() {
  static const DecodeMode mode = [] {
    const std::string& value = default_settings().decode;
    if (value.empty()) return DecodeMode::automatic;
    try {
      return parse_decode_mode(value);
    } catch (const UsageError& e) {
      throw UsageError(concat("TILESTREAM_DECODE: ", e.what()));
    }
  }();
  return mode;
}

}  // namespace tilestream::codec
