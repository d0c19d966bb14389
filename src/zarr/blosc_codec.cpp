// Zarr "blosc" codec (numcodecs Blosc in v2, zarr v3 blosc), built when libblosc was found.
#include "zarr/compressor.hpp"

#if TILESTREAM_WITH_BLOSC
#include <blosc.h>

#include <algorithm>
#include <array>

#include "tilestream/core/error.hpp"

namespace tilestream::zarr {

const CompressorCodec& blosc_codec();  // below; registered in compressor.cpp

namespace {

constexpr int default_clevel = 5;
constexpr std::array<std::string_view, 3> v3_shuffle_names{"noshuffle", "shuffle", "bitshuffle"};
constexpr std::array<std::string_view, 5> cnames{"lz4", "lz4hc", "zstd", "zlib", "blosclz"};

// The spec's own settings: "cname" (default lz4) and "shuffle" (0 none, 1 byte, 2 bit, -1 auto; default 1).
std::string cname_of(const CompressorSpec& spec) { return spec.settings.value("cname", std::string("lz4")); }
int shuffle_of(const CompressorSpec& spec) { return spec.settings.value("shuffle", 1); }

CompressorSpec blosc_spec(int level, std::string cname, int shuffle) {
  CompressorSpec spec = named_compressor("blosc");
  spec.level = level;
  spec.settings = {{"cname", std::move(cname)}, {"shuffle", shuffle}};
  return spec;
}

// blosc[:CNAME[:LEVEL]]
CompressorSpec parse_option(std::span<const std::string> parameters, const std::string& option) {
  require_option(parameters.size() <= 2, option);
  const std::string cname = parameters.empty() ? "lz4" : parameters[0];
  require_option(std::find(cnames.begin(), cnames.end(), cname) != cnames.end(), option,
                 concat("unknown blosc compressor '", cname, "'"));
  const int level = parameters.size() == 2 ? parse_option_level(blosc_codec(), parameters[1], option) : -1;
  return blosc_spec(level, cname, 1);
}

// numcodecs' AUTOSHUFFLE (-1): bit shuffle for 1-byte items, else byte shuffle.
int resolved_shuffle(int shuffle, std::size_t typesize) {
  if (shuffle >= 0) return shuffle;
  return typesize == 1 ? BLOSC_BITSHUFFLE : BLOSC_SHUFFLE;
}

std::vector<std::byte> encode(const CompressorSpec& spec, std::size_t typesize,
                              std::span<const std::byte> bytes) {
  const std::string cname = cname_of(spec);
  std::vector<std::byte> out(bytes.size() + BLOSC_MAX_OVERHEAD);
  const int n =
      blosc_compress_ctx(effective_level(blosc_codec(), spec), resolved_shuffle(shuffle_of(spec), typesize),
                         typesize, bytes.size(), bytes.data(), out.data(), out.size(), cname.c_str(), 0, 1);
  check<CodecError>(n > 0, "blosc compression failed (", n, ") with compressor '", cname, "'");
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::vector<std::byte> decode(const CompressorSpec&, std::span<const std::byte> bytes, std::size_t max_size) {
  std::size_t nbytes = 0;
  check<CodecError>(bytes.size() >= BLOSC_MIN_HEADER_LENGTH &&
                        blosc_cbuffer_validate(bytes.data(), bytes.size(), &nbytes) == 0,
                    "corrupt blosc data (", bytes.size(), " bytes, invalid header)");
  check<CodecError>(nbytes <= max_size, "corrupt blosc data: the header claims ", nbytes,
                    " decoded bytes, more than the ", max_size, " expected");
  std::vector<std::byte> out(nbytes);
  const int n = blosc_decompress_ctx(bytes.data(), out.data(), out.size(), 1);
  check<CodecError>(n >= 0 && static_cast<std::size_t>(n) == nbytes,
                    "corrupt blosc data (decompression returned ", n, ", expected ", nbytes, " bytes)");
  return out;
}

}  // namespace

const CompressorCodec& blosc_codec() {
  static const CompressorCodec codec{
      .name = "blosc",
      .in_v2 = true,
      .in_v3 = true,
      .has_level = true,
      .default_level = default_clevel,
      .min_level = 0,
      .max_level = 9,
      .encode = encode,
      .decode = decode,
      .to_v2 = [](const CompressorSpec& s) -> nlohmann::json {
        return {{"id", "blosc"},
                {"cname", cname_of(s)},
                {"clevel", effective_level(blosc_codec(), s)},
                {"shuffle", shuffle_of(s)},
                {"blocksize", 0}};
      },
      .to_v3 = [](const CompressorSpec& s, std::size_t typesize) -> nlohmann::json {
        return {{"cname", cname_of(s)},
                {"clevel", effective_level(blosc_codec(), s)},
                {"shuffle", v3_shuffle_names[static_cast<std::size_t>(resolved_shuffle(shuffle_of(s), typesize))]},
                {"typesize", typesize},
                {"blocksize", 0}};
      },
      .from_v2 =
          [](const nlohmann::json& j) {
            const int shuffle = json_int(j, "shuffle", 1);
            check<FormatError>(shuffle >= -1 && shuffle <= 2, "blosc shuffle must be -1..2, not ", shuffle);
            return blosc_spec(json_int(j, "clevel", default_clevel), json_string(j, "cname", "lz4"), shuffle);
          },
      .from_v3 =
          [](const nlohmann::json& j) {
            const std::string shuffle = json_string(j, "shuffle", "noshuffle");
            const auto it = std::find(v3_shuffle_names.begin(), v3_shuffle_names.end(), shuffle);
            check<FormatError>(it != v3_shuffle_names.end(),
                               "blosc shuffle must be noshuffle, shuffle or bitshuffle, not '", shuffle, "'");
            return blosc_spec(json_int(j, "clevel", default_clevel), json_string(j, "cname", "lz4"),
                              static_cast<int>(it - v3_shuffle_names.begin()));
          },
      .option_syntax = "blosc[:CNAME[:LEVEL]]",
      .option_forms = "blosc, blosc:CNAME, blosc:CNAME:LEVEL (CNAME lz4, lz4hc, zstd, zlib, blosclz; LEVEL 0-9)",
      .parse_option = parse_option,
  };
  return codec;
}

}  // namespace tilestream::zarr
#endif
