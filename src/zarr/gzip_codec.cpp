// Zarr "gzip" (gzip member, v2 and v3) and "zlib" (zlib stream, numcodecs Zlib, v2 only) codecs.
#include <zlib.h>

#include <climits>

#include "tilestream/core/error.hpp"
#include "zarr/compressor.hpp"

namespace tilestream::zarr {
namespace {

constexpr int gzip_window_bits = 15 + 16;
constexpr int zlib_window_bits = 15;
constexpr int auto_window_bits = 15 + 32;  // inflate detects a zlib or gzip header

std::vector<std::byte> deflate_bytes(std::span<const std::byte> bytes, int level, int window_bits,
                                     const char* what) {
  check<CodecError>(bytes.size() <= UINT_MAX, what, ": chunk of ", bytes.size(),
                    " bytes exceeds zlib's 4 GiB limit");
  z_stream stream{};
  int status = deflateInit2(&stream, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
  check<CodecError>(status == Z_OK, what, ": deflateInit2 failed: ", zError(status));
  std::vector<std::byte> out(deflateBound(&stream, static_cast<uLong>(bytes.size())) + 32);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  status = deflate(&stream, Z_FINISH);
  const uLong produced = stream.total_out;
  deflateEnd(&stream);
  check<CodecError>(status == Z_STREAM_END, what, ": deflate failed: ", zError(status));
  out.resize(produced);
  return out;
}

std::vector<std::byte> inflate_bytes(std::span<const std::byte> bytes, std::size_t max_size, const char* what) {
  check<CodecError>(bytes.size() <= UINT_MAX, what, ": chunk of ", bytes.size(),
                    " bytes exceeds zlib's 4 GiB limit");
  z_stream stream{};
  int status = inflateInit2(&stream, auto_window_bits);
  check<CodecError>(status == Z_OK, what, ": inflateInit2 failed: ", zError(status));
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  // One byte past the limit is room enough to see a stream that goes beyond it.
  const std::size_t capacity = max_size + 1;
  std::vector<std::byte> out(std::min(std::max<std::size_t>(bytes.size() * 4, 4096), capacity));
  for (;;) {
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + stream.total_out);
    stream.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size() - stream.total_out, UINT_MAX));
    status = inflate(&stream, Z_NO_FLUSH);
    if (status == Z_STREAM_END && stream.total_out <= max_size) break;
    if (status == Z_OK && stream.avail_out == 0 && out.size() < capacity) {
      out.resize(std::min(out.size() * 2, capacity));
      continue;
    }
    const std::string message = stream.total_out > max_size ? concat("decodes to more than the ", max_size,
                                                                     " bytes expected")
                                : stream.msg != nullptr                     ? stream.msg
                                : (status == Z_OK || status == Z_BUF_ERROR) ? "truncated stream"
                                                                            : zError(status);
    inflateEnd(&stream);
    throw CodecError(concat("corrupt ", what, " data: ", message));
  }
  out.resize(stream.total_out);
  inflateEnd(&stream);
  return out;
}

nlohmann::json level_only(std::string_view id, int level) { return {{"id", id}, {"level", level}}; }

CompressorSpec with_level(const char* name, int level) {
  CompressorSpec spec = named_compressor(name);
  spec.level = level;
  return spec;
}

}  // namespace

const CompressorCodec& gzip_codec() {
  static const CompressorCodec codec{
      .name = "gzip",
      .in_v2 = true,
      .in_v3 = true,
      .has_level = true,
      .default_level = 6,
      .min_level = 0,
      .max_level = 9,
      .encode =
          [](const CompressorSpec& s, std::size_t, std::span<const std::byte> b) {
            return deflate_bytes(b, effective_level(gzip_codec(), s), gzip_window_bits, "gzip");
          },
      .decode = [](const CompressorSpec&, std::span<const std::byte> b,
                   std::size_t max_size) { return inflate_bytes(b, max_size, "gzip"); },
      .to_v2 = [](const CompressorSpec& s) { return level_only("gzip", effective_level(gzip_codec(), s)); },
      .to_v3 = [](const CompressorSpec& s, std::size_t) -> nlohmann::json {
        return {{"level", effective_level(gzip_codec(), s)}};
      },
      .from_v2 = [](const nlohmann::json& j) { return with_level("gzip", json_int(j, "level", 6)); },
      .from_v3 = [](const nlohmann::json& j) { return with_level("gzip", json_int(j, "level", 6)); },
      .option_syntax = "gzip[:LEVEL]",
      .option_forms = "gzip, gzip:LEVEL (0-9)",
      .parse_option = parse_level_option<gzip_codec>,
  };
  return codec;
}

const CompressorCodec& zlib_codec() {
  static const CompressorCodec codec{
      .name = "zlib",
      .in_v2 = true,
      .in_v3 = false,
      .has_level = true,
      .default_level = 6,
      .min_level = 0,
      .max_level = 9,
      .encode =
          [](const CompressorSpec& s, std::size_t, std::span<const std::byte> b) {
            return deflate_bytes(b, effective_level(zlib_codec(), s), zlib_window_bits, "zlib");
          },
      .decode = [](const CompressorSpec&, std::span<const std::byte> b,
                   std::size_t max_size) { return inflate_bytes(b, max_size, "zlib"); },
      .to_v2 = [](const CompressorSpec& s) { return level_only("zlib", effective_level(zlib_codec(), s)); },
      .to_v3 = nullptr,
      .from_v2 = [](const nlohmann::json& j) { return with_level("zlib", json_int(j, "level", 6)); },
      .from_v3 = nullptr,
      .option_syntax = "zlib[:LEVEL]",
      .option_forms = "zlib, zlib:LEVEL (0-9, Zarr v2 only)",
      .parse_option = parse_level_option<zlib_codec>,
  };
  return codec;
}

}  // namespace tilestream::zarr
