// The codec table and the public entry points: validation, dispatch by compression id, and the
// byte order / predictor steps shared by all lossless byte-stream codecs.
#include "codec/registry.hpp"

#include <array>
#include <cstring>
#include <iterator>

#include "codec/bilevel.hpp"
#include <cstdio>
#include <tuple>
#include "codec/byte_order.hpp"
#include "codec/deflate.hpp"
#include "codec/jpeg.hpp"
#if TILESTREAM_WITH_OPENJPEG
#include "codec/jpeg2000.hpp"
#endif
#if TILESTREAM_WITH_LZMA
#include "codec/lzma.hpp"
#endif
#include "codec/lzw.hpp"
#include "codec/packbits.hpp"
#include "codec/predictor.hpp"
#include "codec/uncompressed.hpp"
#if TILESTREAM_WITH_WEBP
#include "codec/webp.hpp"
#endif
#include "codec/zstd.hpp"
#include "tilestream/core/error.hpp"

namespace tilestream::codec {
namespace {

using enum CodecKind;

#if !TILESTREAM_WITH_OPENJPEG
constexpr const char* no_openjpeg = "this build has no OpenJPEG (Debian: libopenjp2-7-dev)";
#endif

// One line per compression we know; decode/encode are nullptr where we only know the name.
constexpr std::array codecs{
    Codec{compression::none, "none", bytes, uncompressed_decode, uncompressed_encode, nullptr},
    Codec{compression::ccitt_rle, "CCITT RLE", bytes, nullptr, nullptr, nullptr},
    Codec{compression::ccitt_t4, "CCITT Group 3", bytes, nullptr, nullptr, nullptr},
    Codec{compression::ccitt_t6, "CCITT Group 4", bytes, nullptr, nullptr, nullptr},
    Codec{compression::lzw, "LZW", bytes, lzw_decode, lzw_encode, nullptr},
    Codec{compression::ojpeg, "old-style JPEG", image, nullptr, nullptr, nullptr},
    Codec{compression::jpeg, "JPEG", image, jpeg_decode, jpeg_encode, jpeg_decode_rows, jpeg_decode_window},
    Codec{compression::adobe_deflate, "Adobe deflate", bytes, deflate_decode, deflate_encode, nullptr},
    Codec{compression::packbits, "PackBits", bytes, packbits_decode, packbits_encode, nullptr},
    Codec{compression::deflate, "deflate", bytes, deflate_decode, deflate_encode, nullptr},
#if TILESTREAM_WITH_OPENJPEG
    Codec{compression::jpeg2000_ycbcr, "JPEG 2000 (Aperio YCbCr)", image, jpeg2000_ycbcr_decode,
          jpeg2000_ycbcr_encode, jpeg2000_ycbcr_decode_rows, jpeg2000_ycbcr_decode_window},
    Codec{compression::jpeg2000_lossy, "JPEG 2000 (lossy)", image, jpeg2000_decode, jpeg2000_encode,
          jpeg2000_decode_rows, jpeg2000_decode_window},
    Codec{compression::jpeg2000_rgb, "JPEG 2000 (Aperio RGB)", image, jpeg2000_decode, jpeg2000_encode,
          jpeg2000_decode_rows, jpeg2000_decode_window},
    Codec{compression::jpeg2000, "JPEG 2000", image, jpeg2000_decode, jpeg2000_encode, jpeg2000_decode_rows,
          jpeg2000_decode_window},
#else
    Codec{compression::jpeg2000_ycbcr, "JPEG 2000 (Aperio YCbCr)", image, nullptr, nullptr, nullptr, nullptr,
          no_openjpeg},
    Codec{compression::jpeg2000_lossy, "JPEG 2000 (lossy)", image, nullptr, nullptr, nullptr, nullptr, no_openjpeg},
    Codec{compression::jpeg2000_rgb, "JPEG 2000 (Aperio RGB)", image, nullptr, nullptr, nullptr, nullptr,
          no_openjpeg},
    Codec{compression::jpeg2000, "JPEG 2000", image, nullptr, nullptr, nullptr, nullptr, no_openjpeg},
#endif
    Codec{compression::lerc, "LERC", bytes, nullptr, nullptr, nullptr},
#if TILESTREAM_WITH_LZMA
    Codec{compression::lzma, "LZMA", bytes, lzma_decode, lzma_encode, nullptr},
#else
    Codec{compression::lzma, "LZMA", bytes, nullptr, nullptr, nullptr, nullptr,
          "this build has no liblzma (Debian: liblzma-dev)"},
#endif
    Codec{compression::zstd, "zstd", bytes, zstd_decode, zstd_encode, nullptr},
#if TILESTREAM_WITH_WEBP
    Codec{compression::webp, "WebP", image, webp_decode, webp_encode, webp_decode_rows},
#else
    Codec{compression::webp, "WebP", image, nullptr, nullptr, nullptr, nullptr,
          "this build has no libwebp (Debian: libwebp-dev)"},
#endif
    Codec{compression::jpegxl, "JPEG XL", image, nullptr, nullptr, nullptr},
};

std::string describe(std::uint16_t compression) {
  return concat(compression_name(compression), " (", compression, ")");
}

// " (why)" where this build lacks the codec's library, else "".
std::string not_built_note(std::uint16_t compression) {
  const std::string why = not_built_reason(compression);
  return why.empty() ? why : concat(" (", why, ")");
}

}  // namespace

const Codec* find_codec(std::uint16_t compression) {
  for (const Codec& codec : codecs) {
    if (codec.id == compression) return &codec;
  }
  return nullptr;
}

const char* compression_name(std::uint16_t compression) {
  const Codec* codec = find_codec(compression);
  return codec != nullptr ? codec->name : "unknown";
}

const char* not_built_reason(std::uint16_t compression) {
  const Codec* codec = find_codec(compression);
  return codec != nullptr && codec->not_built != nullptr ? codec->not_built : "";
}

std::string openjpeg_version() {
#if TILESTREAM_WITH_OPENJPEG
  return openjpeg_library_version();
#else
  return {};
#endif
}

bool decodes_htj2k() {
  const std::string version = openjpeg_version();
  int major = 0, minor = 0, patch = 0;
  if (std::sscanf(version.c_str(), "%d.%d.%d", &major, &minor, &patch) < 2) return false;
  return std::make_tuple(major, minor, patch) >= std::make_tuple(2, 5, 4);
}

bool is_supported(std::uint16_t compression) {
  const Codec* codec = find_codec(compression);
  return codec != nullptr && codec->decode != nullptr;
}

void decode_tile(std::uint16_t compression, std::span<const std::byte> src, const TileLayout& layout,
                 std::span<std::byte> dst) {
  check<UsageError>(dst.size() == layout.decoded_bytes(), "decode buffer of ", dst.size(),
                    " bytes for a tile of ", layout.decoded_bytes(), " bytes");
  const Codec* codec = find_codec(compression);
  check<UnsupportedError>(codec != nullptr && codec->decode != nullptr, "compression ",
                          describe(compression), " is not supported", not_built_note(compression));
  check<UnsupportedError>(codec->kind != image || !layout.bilevel, describe(compression),
                          " holds no 1-bit samples (the byte-stream compressions do)");
  if (codec->kind == image) {
    codec->decode(src, layout, dst);  // JPEG carries no predictor (libtiff ignores the tag there)
    return;
  }
  check_predictor(layout);  // before the work, so an unsupported tile costs nothing
  if (layout.bilevel) {  // unpacked here, once, so that every reader gets one uint8 a pixel
    thread_local std::vector<std::byte> packed, reversed;
    if (layout.bilevel_lsb_first) {
      reversed.assign(src.begin(), src.end());
      reverse_bits(reversed);
      src = reversed;
    }
    packed.resize(layout.stored_bytes());
    codec->decode(src, packed_layout(layout), packed);
    unpack_bilevel(packed, layout, dst);
    return;
  }
  codec->decode(src, layout, dst);
  convert_byte_order(layout, dst);
  undo_predictor(layout, dst);
}

void decode_tile_into(std::uint16_t compression, std::span<const std::byte> src, const TileLayout& layout,
                      std::byte* dst, std::size_t row_stride) {
  const std::size_t row_bytes = std::size_t{layout.width} * layout.samples * bytes_per_sample(layout.dtype);
  check<UsageError>(row_stride >= row_bytes, "row stride of ", row_stride, " bytes for rows of ", row_bytes);
  const Codec* codec = find_codec(compression);
  if (codec != nullptr && codec->decode_rows != nullptr && codec->kind == image) {
    codec->decode_rows(src, layout, dst, row_stride);
    return;
  }
  if (row_stride == row_bytes) {
    decode_tile(compression, src, layout, std::span(dst, layout.decoded_bytes()));
    return;
  }
  thread_local std::vector<std::byte> scratch;
  scratch.resize(layout.decoded_bytes());
  decode_tile(compression, src, layout, scratch);
  for (std::uint32_t r = 0; r < layout.rows; ++r)
    std::memcpy(dst + r * row_stride, scratch.data() + r * row_bytes, row_bytes);
}

void decode_tile_window_into(std::uint16_t compression, std::span<const std::byte> src, const TileLayout& layout,
                             const TileWindow& window, std::byte* dst, std::size_t row_stride) {
  check<UsageError>(window.left < window.right && window.right <= layout.width && window.top < window.bottom &&
                        window.bottom <= layout.rows,
                    "a window of columns ", window.left, "-", window.right, ", rows ", window.top, "-", window.bottom,
                    " of a ", layout.width, " x ", layout.rows, " tile");
  const Codec* codec = find_codec(compression);
  if (codec != nullptr && codec->decode_window != nullptr) {
    const std::size_t row_bytes = std::size_t{layout.width} * layout.samples * bytes_per_sample(layout.dtype);
    check<UsageError>(row_stride >= row_bytes, "row stride of ", row_stride, " bytes for rows of ", row_bytes);
    codec->decode_window(src, layout, window, dst, row_stride);
    return;
  }
  decode_tile_into(compression, src, layout, dst, row_stride);
}

std::vector<std::byte> encode_tile(std::uint16_t compression, std::span<const std::byte> pixels,
                                   const TileLayout& layout, const EncodeOptions& options) {
  check<UsageError>(pixels.size() == layout.decoded_bytes(), "encoding ", pixels.size(),
                    " bytes as a tile of ", layout.decoded_bytes(), " bytes");
  const Codec* codec = find_codec(compression);
  check<UnsupportedError>(codec != nullptr && codec->encode != nullptr, "encoding compression ",
                          describe(compression), " is not supported", not_built_note(compression));
  check<UnsupportedError>(codec->kind != image || !layout.bilevel, describe(compression),
                          " holds no 1-bit samples (the byte-stream compressions do)");
  if (codec->kind == image) return codec->encode(pixels, layout, options);
  check_predictor(layout);
  if (layout.bilevel) {
    std::vector<std::byte> stream = pack_bilevel(pixels, layout);
    if (compression != compression::none) stream = codec->encode(stream, packed_layout(layout), options);
    if (layout.bilevel_lsb_first) reverse_bits(stream);
    return stream;
  }
  std::vector<std::byte> prepared(pixels.begin(), pixels.end());
  apply_predictor(layout, prepared);
  convert_byte_order(layout, prepared);
  if (compression == compression::none) return prepared;
  return codec->encode(prepared, layout, options);
}

std::vector<std::byte> make_jpeg_tables(std::uint32_t samples, const EncodeOptions& options) {
  return jpeg_tables(samples, options);
}

}  // namespace tilestream::codec
