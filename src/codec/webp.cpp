// WebP tiles through libwebp: decoded straight into the caller's rows (WebPDecodeRGBInto), encoded
// with its advanced API (lossless keeps the colour under transparent pixels, which the simple API does not).
#include "codec/webp.hpp"

#include <webp/decode.h>
#include <webp/encode.h>

#include <climits>

#include "tilestream/core/error.hpp"

namespace tilestream::codec {
namespace {

void check_layout(const TileLayout& layout) {
  check<UnsupportedError>(layout.dtype == DType::uint8 && (layout.samples == 3 || layout.samples == 4),
                          "WebP tiles hold 8-bit RGB or RGBA, not ", layout.samples, " ",
                          to_string(layout.dtype), " sample", layout.samples == 1 ? "" : "s", " per pixel");
}

}  // namespace

void webp_decode_rows(std::span<const std::byte> src, const TileLayout& layout, std::byte* dst,
                      std::size_t row_stride) {
  check_layout(layout);
  const auto* data = reinterpret_cast<const std::uint8_t*>(src.data());
  WebPBitstreamFeatures features;
  const VP8StatusCode status = WebPGetFeatures(data, src.size(), &features);
  check<CodecError>(status == VP8_STATUS_OK, "WebP stream is corrupt or truncated (libwebp status ",
                    static_cast<int>(status), ")");
  check<CodecError>(static_cast<std::uint32_t>(features.width) == layout.width &&
                        static_cast<std::uint32_t>(features.height) == layout.rows,
                    "WebP image of ", features.width, " x ", features.height, " in a tile of ", layout.width,
                    " x ", layout.rows);
  check<CodecError>(row_stride <= INT_MAX && row_stride * layout.rows <= SIZE_MAX / 2, "WebP rows of ",
                    row_stride, " bytes are too long");
  auto* out = reinterpret_cast<std::uint8_t*>(dst);
  const std::size_t size = row_stride * (layout.rows - 1) + std::size_t{layout.width} * layout.samples;
  const int stride = static_cast<int>(row_stride);
  const std::uint8_t* decoded = layout.samples == 4 ? WebPDecodeRGBAInto(data, src.size(), out, size, stride)
                                                    : WebPDecodeRGBInto(data, src.size(), out, size, stride);
  check<CodecError>(decoded != nullptr, "WebP stream is corrupt or truncated (", src.size(), " bytes for a ",
                    layout.width, " x ", layout.rows, " tile)");
}

void webp_decode(std::span<const std::byte> src, const TileLayout& layout, std::span<std::byte> dst) {
  webp_decode_rows(src, layout, dst.data(), std::size_t{layout.width} * layout.samples);
}

std::vector<std::byte> webp_encode(std::span<const std::byte> pixels, const TileLayout& layout,
                                   const EncodeOptions& options) {
  check_layout(layout);
  check<UsageError>(options.webp_quality <= 100, "WebP quality must be 0 to 100 (negative: lossless), not ",
                    options.webp_quality);
  check<UsageError>(layout.width <= WEBP_MAX_DIMENSION && layout.rows <= WEBP_MAX_DIMENSION,
                    "WebP images are at most ", WEBP_MAX_DIMENSION, " pixels a side, not ", layout.width,
                    " x ", layout.rows);
  WebPConfig config;
  check<CodecError>(WebPConfigInit(&config) != 0,
                    "libwebp: WebPConfigInit failed (a libwebp of another version?)");
  if (options.webp_quality < 0) {
    config.lossless = 1;
    config.exact = 1;  // keep the colour under transparent pixels: lossless means every sample
  } else {
    config.quality = static_cast<float>(options.webp_quality);
  }
  WebPPicture picture;
  check<CodecError>(WebPPictureInit(&picture) != 0, "libwebp: WebPPictureInit failed");
  picture.use_argb = config.lossless;
  picture.width = static_cast<int>(layout.width);
  picture.height = static_cast<int>(layout.rows);
  WebPMemoryWriter writer;
  WebPMemoryWriterInit(&writer);
  picture.writer = WebPMemoryWrite;
  picture.custom_ptr = &writer;
  const auto* in = reinterpret_cast<const std::uint8_t*>(pixels.data());
  const int stride = picture.width * static_cast<int>(layout.samples);
  const int imported = layout.samples == 4 ? WebPPictureImportRGBA(&picture, in, stride)
                                           : WebPPictureImportRGB(&picture, in, stride);
  const int encoded = imported != 0 ? WebPEncode(&config, &picture) : 0;
  const int error = picture.error_code;
  WebPPictureFree(&picture);
  std::vector<std::byte> out;
  if (encoded != 0) {
    const auto* bytes = reinterpret_cast<const std::byte*>(writer.mem);
    out.assign(bytes, bytes + writer.size);
  }
  WebPMemoryWriterClear(&writer);
  check<CodecError>(encoded != 0, "WebP encoding of a ", layout.width, " x ", layout.rows,
                    " tile failed (libwebp error ",
                    imported != 0 ? error : static_cast<int>(VP8_ENC_ERROR_OUT_OF_MEMORY), ")");
  return out;
}

}  // namespace tilestream::codec
