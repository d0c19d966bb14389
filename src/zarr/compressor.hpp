// The registry of Zarr bytes-to-bytes codecs ("compressors"): how each one encodes and decodes
// bytes, and how it is written in v2 ("compressor": {"id": ...}) and v3 ({"name", "configuration"})
// metadata. Adding a codec is one file defining a CompressorCodec and one line in compressor.cpp.
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

// The codecs, one file each.
const CompressorCodec& zstd_codec();
const CompressorCodec& gzip_codec();
const CompressorCodec& zlib_codec();
const CompressorCodec& crc32c_codec();
#if TILESTREAM_WITH_BLOSC
const CompressorCodec& blosc_codec();
#endif

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

}  // namespace tilestream::zarr
