// The encode mode table, and names and defaults read from it.
#include "tilestream/zarr/encode_mode.hpp"

#include <array>

#include "tilestream/core/error.hpp"
#include "tilestream/core/settings.hpp"

namespace tilestream::zarr {
namespace {

constexpr std::array<EncodeModeInfo, 3> table{{
    {EncodeMode::automatic, "auto",
     "chunks made on the GPU compressed there with nvCOMP where it loads and the codecs allow, else on the CPU"},
    {EncodeMode::cpu, "cpu", "chunks copied to the host and compressed on CPU threads"},
    {EncodeMode::gpu, "gpu", "with nvCOMP on the GPU; fails where it is missing or the codecs cannot run there"},
}};

}  // namespace

std::span<const EncodeModeInfo> encode_modes() { return table; }

const EncodeModeInfo& info(EncodeMode mode) {
  for (const EncodeModeInfo& entry : table)
    if (entry.mode == mode) return entry;
  throw UsageError(concat("encode mode ", static_cast<int>(mode), " is not in the encode mode table"));
}

EncodeMode parse_encode_mode(std::string_view text) {
  std::string names;
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (table[i].name == text) return table[i].mode;
    names += concat(i == 0 ? "" : i + 1 == table.size() ? " or " : ", ", table[i].name);
  }
  throw UsageError(concat("encode mode must be ", names, ", not '", text, "'"));
}

const char* to_string(EncodeMode mode) { return info(mode).name.data(); }

std::string describe_encode_modes() {
  std::string text;
  for (const EncodeModeInfo& entry : table) {
    text += concat(text.empty() ? "" : ", ", entry.name, " (", entry.summary, ")");
  }
  return text;
}

EncodeMode default_encode_mode() {
  static const EncodeMode mode = [] {
    const std::string& value = default_settings().encode;
    if (value.empty()) return EncodeMode::automatic;
    try {
      return parse_encode_mode(value);
    } catch (const UsageError& e) {
      throw UsageError(concat("TILESTREAM_ENCODE: ", e.what()));
    }
  }();
  return mode;
}

}  // namespace tilestream::zarr
