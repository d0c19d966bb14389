// How an image's decoded samples become the pixels a reader returns, keyed by the TIFF
// PhotometricInterpretation tag: a table of converters, as the codec table is keyed by Compression.
//
// The conversions give the pixels OpenSlide renders through libtiff's RGBA interface, kept in the
// image's own sample type where OpenSlide's would only lose bits:
//   MinIsWhite (0)  inverted: max - v (uint8 255 - v as OpenSlide; uint16 65535 - v, whose high byte
//                   is OpenSlide's 8-bit value), one sample, unsigned only; 1-bit images (decoded
//                   to 0 / bilevel_max) bilevel_max - v, so that white reads as 1 (or 255) as with
//                   MinIsBlack
//   MinIsBlack (1), RGB (2)   as stored
//   Palette (3)     expanded through the ColorMap to 3 x uint8: a map with any of its first 2^bits
//                   entries above 255 is a 16-bit map and gives its high bytes (libtiff's rule),
//                   otherwise its values are taken as 8-bit (libtiff's "assuming 8-bit colormap")
//   Separated (5)   CMYK (InkSet 1), 8-bit, interleaved, not JPEG: to 3 x uint8 as libtiff does,
//                   R = (255 - K) * (255 - C) / 255 in integers; samples past the fourth are dropped
//   YCbCr (6)       JPEG and Aperio YCbCr JPEG 2000 (33003) tiles: their decoders already give RGB;
//                   other compressions are refused
// Any other photometric, or a layout a converter cannot take, is refused with UnsupportedError;
// never are stored samples passed off as pixels without a word. Asking for the stored samples
// (PixelConversion::as_stored) gives them as they are, for every photometric.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tilestream/codec/codec.hpp"
#include "tilestream/core/dtype.hpp"

namespace tilestream::codec {

// What an image stores, as far as turning samples into pixels goes.
struct StoredPixels {
  std::uint16_t photometric = photometric::min_is_black;
  std::uint16_t compression = compression::none;
  std::uint32_t samples = 1;  // SamplesPerPixel
  DType dtype = DType::uint8;
  std::uint16_t planar_config = 1;
  std::uint16_t ink_set = 1;                 // InkSet: 1 CMYK, 2 not CMYK
  std::uint8_t bilevel_max = 0;              // 1-bit images: what a set bit decodes to (1 or 255); else 0
  std::span<const std::uint64_t> color_map;  // ColorMap: all red values, then green, then blue
};

using ConvertPixels = void (*)(const struct PixelConversion& conversion, const std::byte* src,
                               std::byte* dst, std::size_t pixels);

// How one image's stored samples become pixels. A value: images carry it and threads share it.
struct PixelConversion {
  std::uint32_t stored_samples = 1;
  DType stored_dtype = DType::uint8;
  std::uint32_t samples = 1;  // per output pixel
  DType dtype = DType::uint8;
  ConvertPixels convert = nullptr;   // nullptr: the pixels are the stored samples
  std::vector<std::uint8_t> lookup;  // Palette: R, G, B bytes per index
  std::string name;                  // the converter's name, for reports: "Palette to RGB", "as stored"

  bool identity() const { return convert == nullptr; }
  std::size_t stored_pixel_bytes() const { return std::size_t{stored_samples} * bytes_per_sample(stored_dtype); }
  std::size_t pixel_bytes() const { return std::size_t{samples} * bytes_per_sample(dtype); }
};

// The conversion the table gives `stored`. Throws UnsupportedError saying why (no file context:
// callers add the file and IFD) when no converter takes it.
PixelConversion plan_conversion(const StoredPixels& stored);

// The conversion that keeps the samples as stored, whatever the photometric.
PixelConversion as_stored(const StoredPixels& stored);

// Converts `pixels` interleaved stored pixels at `src` into `dst` (which must not overlap it).
// For the identity conversion this copies.
void convert_pixels(const PixelConversion& conversion, const std::byte* src, std::byte* dst, std::size_t pixels);

// "MinIsWhite", "Palette", "CIELab", ...; "unknown" for values TIFF does not name.
const char* photometric_name(std::uint16_t photometric);

}  // namespace tilestream::codec
