// The table of Zarr bytes-to-bytes codecs ("compressors"): how each one encodes and decodes bytes,
// how it parses its CLI parameters (--codec NAME:...), and how it is written in and read from v2
// ("compressor": {"id": ...}) and v3 ({"name", "configuration"}) metadata. Adding a codec is one file
// defining its CompressorCodec (src/zarr/<name>_codec.cpp) and one registration in the table in
// compressor.cpp; nothing else names a codec.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <span>
#include <string_view>
#include <vector>

#include "tilestream/zarr/array.hpp"

namespace tilestream::zarr {

// One codec as plain data. encode/decode are pure and thread-safe; decode throws CodecError
// (without the key: callers add it). `typesize` is the array's bytes per sample (blosc shuffles by it).
// decode never produces (nor allocates for) more than `max_size` bytes: a stream that claims or
// inflates to more is corrupt, so a small hostile chunk cannot make a reader allocate gigabytes.
struct CompressorCodec {
  std::string_view name;  // v2 "id" and v3 "name"
  bool in_v2 = false;
  bool in_v3 = false;
  bool has_level = false;
  int default_level = 0;
  int min_level = 0;
  int max_level = 0;
  std::vector<std::byte> (*encode)(const CompressorSpec& spec, std::size_t typesize,
                                   std::span<const std::byte> bytes) = nullptr;
  std::vector<std::byte> (*decode)(const CompressorSpec& spec, std::span<const std::byte> bytes,
                                   std::size_t max_size) = nullptr;
  // v2: the whole {"id": ...} object. Null when !in_v2.
  nlohmann::json (*to_v2)(const CompressorSpec& spec) = nullptr;
  // v3: the "configuration" object, or null for a codec without one (crc32c).
  nlohmann::json (*to_v3)(const CompressorSpec& spec, std::size_t typesize) = nullptr;
  // Inverses; throw FormatError on a malformed document.
  CompressorSpec (*from_v2)(const nlohmann::json& object) = nullptr;
  CompressorSpec (*from_v3)(const nlohmann::json& configuration) = nullptr;
  // The CLI: `option_syntax` ("zstd[:LEVEL]") and `option_forms` ("zstd, zstd:LEVEL (0-22)") for help
  // and errors; parse_option builds the spec from the parameters after "NAME:" (none for "NAME"),
  // throwing UsageError with `option` (the whole text) in the message. Null for a codec that --codec
  // does not offer (crc32c: the sharding index's checksum).
  std::string_view option_syntax;
  std::string_view option_forms;
  CompressorSpec (*parse_option)(std::span<const std::string> parameters, const std::string& option) = nullptr;
};

// The registered codecs (blosc only when built with it).
std::span<const CompressorCodec* const> compressor_codecs();
// The codec named `name`, or nullptr.
const CompressorCodec* find_compressor(std::string_view name);
// The level to use: spec.level, or the codec's default when < 0.
int effective_level(const CompressorCodec& codec, const CompressorSpec& spec);

// Metadata forms of one CompressorSpec; throw UnsupportedError for an unknown codec name.
nlohmann::json compressor_to_v2_json(const CompressorSpec& spec);
nlohmann::json compressor_to_v3_json(const CompressorSpec& spec, std::size_t typesize);
// Parse; throw UnsupportedError naming the codec for one we do not implement.
CompressorSpec compressor_from_v2_json(const nlohmann::json& object);
CompressorSpec compressor_from_v3_json(const nlohmann::json& object);

// crc32c, which the sharding codec also uses for its index (block_encoder.cpp).
const CompressorCodec& crc32c_codec();

// A spec naming `name` with default settings.
inline CompressorSpec named_compressor(std::string name) {
  CompressorSpec spec;
  spec.name = std::move(name);
  return spec;
}
inline CompressorSpec crc32c_spec() { return named_compressor("crc32c"); }

// Small helpers for codec files: a JSON member as int / string, FormatError when it has the wrong type.
int json_int(const nlohmann::json& object, const char* member, int fallback);
std::string json_string(const nlohmann::json& object, const char* member, const std::string& fallback);
// A spec of `codec` with the level parsed from `text` (the codec's min_level..max_level), UsageError
// naming `option` and the valid forms otherwise.
int parse_option_level(const CompressorCodec& codec, const std::string& text, const std::string& option);
// UsageError "invalid codec option '<option>'[: <problem>]; valid forms: ..." unless `ok`.
void require_option(bool ok, const std::string& option, const std::string& problem = {});
// parse_option of a codec whose only parameter is an optional level (zstd, gzip, zlib).
template <const CompressorCodec& (*codec)()>
CompressorSpec parse_level_option(std::span<const std::string> parameters, const std::string& option) {
  require_option(parameters.size() <= 1, option);
  CompressorSpec spec = named_compressor(std::string(codec().name));
  if (parameters.size() == 1) spec.level = parse_option_level(codec(), parameters[0], option);
  return spec;
}

}  // namespace tilestream::zarr
