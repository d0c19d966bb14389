// The table of Zarr compressors, their v2/v3 JSON forms, and the CLI's --codec option.
#include "zarr/compressor.hpp"

#include <algorithm>
#include <array>

#include "tilestream/core/error.hpp"

namespace tilestream::zarr {

// The codecs, one file each (src/zarr/<name>_codec.cpp); a new codec is registered here, once.
const CompressorCodec& zstd_codec();
const CompressorCodec& gzip_codec();
const CompressorCodec& zlib_codec();
#if TILESTREAM_WITH_BLOSC
const CompressorCodec& blosc_codec();
#endif

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

std::string valid_forms() {
  std::string forms = "valid forms: none";
  for (const CompressorCodec* codec : compressor_codecs())
    if (codec->parse_option) forms += concat(", ", codec->option_forms);
#if !TILESTREAM_WITH_BLOSC
  forms += " (blosc: not in this build)";
#endif
  return forms;
}

}  // namespace

void require_option(bool ok, const std::string& option, const std::string& problem) {
  if (!ok)
    throw UsageError(concat("invalid codec option '", option, "'", problem.empty() ? "" : ": ", problem, "; ",
                            valid_forms()));
}

int parse_option_level(const CompressorCodec& codec, const std::string& text, const std::string& option) {
  std::size_t used = 0;
  int level = -1;
  try {
    level = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  require_option(used == text.size() && !text.empty(), option, concat("level '", text, "' is not a number"));
  require_option(level >= codec.min_level && level <= codec.max_level, option,
                 concat(codec.name, " level must be ", codec.min_level, "..", codec.max_level));
  return level;
}

std::vector<CompressorSpec> parse_codec_option(const std::string& text) {
  if (text == "none") return {};
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    const std::size_t colon = text.find(':', start);
    parts.push_back(text.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
#if !TILESTREAM_WITH_BLOSC
  check<UsageError>(parts[0] != "blosc", "blosc support was not built (libblosc not found at build time)");
#endif
  const CompressorCodec* codec = find_compressor(parts[0]);
  require_option(codec != nullptr && codec->parse_option != nullptr, text);
  return {codec->parse_option(std::span(parts).subspan(1), text)};
}

std::string codec_option_syntax() {
  std::string syntax = "none";
  for (const CompressorCodec* codec : compressor_codecs())
    if (codec->parse_option) syntax += concat("|", codec->option_syntax);
  return syntax;
}

}  // namespace tilestream::zarr
