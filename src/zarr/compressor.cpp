// Registry of Zarr compressors, their v2/v3 JSON forms, and the CLI's --codec option.
#include "zarr/compressor.hpp"

#include <algorithm>
#include <array>

#include "tilestream/core/error.hpp"

namespace tilestream::zarr {

std::span<const CompressorCodec* const> compressor_codecs() {
  static const std::array codecs {
    &zstd_codec(), &gzip_codec(), &zlib_codec(), &crc32c_codec(),
#if TILESTREAM_WITH_BLOSC
        &blosc_codec(),
#endif
  };
  return codecs;
}

const CompressorCodec* find_compressor(std::string_view name) {
  for (const CompressorCodec* codec : compressor_codecs())
    if (codec->name == name) return codec;
  return nullptr;
}

int effective_level(const CompressorCodec& codec, const CompressorSpec& spec) {
  return spec.level < 0 ? codec.default_level : spec.level;
}

int json_int(const nlohmann::json& object, const char* member, int fallback) {
  if (!object.is_object() || !object.contains(member) || object[member].is_null()) return fallback;
  const nlohmann::json& value = object[member];
  check<FormatError>(value.is_number_integer(), "codec member \"", member, "\" must be an integer, not ",
                     value.dump());
  return value.get<int>();
}

std::string json_string(const nlohmann::json& object, const char* member, const std::string& fallback) {
  if (!object.is_object() || !object.contains(member) || object[member].is_null()) return fallback;
  const nlohmann::json& value = object[member];
  check<FormatError>(value.is_string(), "codec member \"", member, "\" must be a string, not ", value.dump());
  return value.get<std::string>();
}

namespace {
const CompressorCodec& known(const std::string& name, int zarr_format) {
  const CompressorCodec* codec = find_compressor(name);
#if !TILESTREAM_WITH_BLOSC
  check<UnsupportedError>(name != "blosc", "blosc support was not built (libblosc not found at build time)");
#endif
  check<UnsupportedError>(codec != nullptr, "unsupported Zarr codec \"", name, "\"");
  check<UnsupportedError>(zarr_format == 2 ? codec->in_v2 : codec->in_v3, "codec \"", name,
                          "\" is not available in Zarr v", zarr_format);
  return *codec;
}
}  // namespace

nlohmann::json compressor_to_v2_json(const CompressorSpec& spec) { return known(spec.name, 2).to_v2(spec); }

nlohmann::json compressor_to_v3_json(const CompressorSpec& spec, std::size_t typesize) {
  const CompressorCodec& codec = known(spec.name, 3);
  nlohmann::json result = nlohmann::json::object();
  result["name"] = spec.name;
  nlohmann::json configuration = codec.to_v3(spec, typesize);
  if (!configuration.is_null()) result["configuration"] = std::move(configuration);
  return result;
}

CompressorSpec compressor_from_v2_json(const nlohmann::json& object) {
  check<FormatError>(object.is_object() && object.contains("id") && object["id"].is_string(),
                     "compressor must be an object with an \"id\", not ", object.dump());
  return known(object["id"].get<std::string>(), 2).from_v2(object);
}

CompressorSpec compressor_from_v3_json(const nlohmann::json& object) {
  check<FormatError>(object.is_object() && object.contains("name") && object["name"].is_string(),
                     "codec must be an object with a \"name\", not ", object.dump());
  const nlohmann::json configuration = object.value("configuration", nlohmann::json::object());
  return known(object["name"].get<std::string>(), 3).from_v3(configuration);
}

namespace {
constexpr const char* codec_option_forms =
    "valid forms: none, zstd, zstd:LEVEL (0-22), gzip, gzip:LEVEL (0-9), zlib:LEVEL (0-9, Zarr v2 only), "
    "blosc, blosc:CNAME, blosc:CNAME:LEVEL (CNAME lz4, lz4hc, zstd, zlib, blosclz; LEVEL 0-9)";

int parse_level(const std::string& text, const std::string& option, const CompressorCodec& codec) {
  std::size_t used = 0;
  int level = -1;
  try {
    level = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  check<UsageError>(used == text.size() && !text.empty(), "invalid codec option '", option, "': level '",
                    text, "' is not a number; ", codec_option_forms);
  check<UsageError>(level >= codec.min_level && level <= codec.max_level, "invalid codec option '", option,
                    "': ", codec.name, " level must be ", codec.min_level, "..", codec.max_level, "; ",
                    codec_option_forms);
  return level;
}
}  // namespace

std::vector<CompressorSpec> parse_codec_option(const std::string& text) {
  if (text == "none") return {};
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    const std::size_t colon = text.find(':', start);
    parts.push_back(text.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  const std::string& name = parts[0];
  CompressorSpec spec;
  spec.name = name;
  if (name == "zstd" || name == "gzip" || name == "zlib") {
    check<UsageError>(parts.size() <= 2, "invalid codec option '", text, "'; ", codec_option_forms);
    if (parts.size() == 2) spec.level = parse_level(parts[1], text, *find_compressor(name));
    return {spec};
  }
  if (name == "blosc") {
#if TILESTREAM_WITH_BLOSC
    check<UsageError>(parts.size() <= 3, "invalid codec option '", text, "'; ", codec_option_forms);
    spec.blosc_cname = parts.size() >= 2 ? parts[1] : "lz4";
    static constexpr std::array<std::string_view, 5> cnames{"lz4", "lz4hc", "zstd", "zlib", "blosclz"};
    check<UsageError>(std::find(cnames.begin(), cnames.end(), spec.blosc_cname) != cnames.end(),
                      "invalid codec option '", text, "': unknown blosc compressor '", spec.blosc_cname,
                      "'; ", codec_option_forms);
    if (parts.size() == 3) spec.level = parse_level(parts[2], text, *find_compressor(name));
    return {spec};
#else
    throw UsageError("blosc support was not built (libblosc not found at build time)");
#endif
  }
  throw UsageError(concat("invalid codec option '", text, "'; ", codec_option_forms));
}

}  // namespace tilestream::zarr
