// The table of photometric converters (see the header for what each does and why).
#include "tilestream/codec/photometric.hpp"

#include <algorithm>
#include <cstring>

#include "tilestream/core/error.hpp"

namespace tilestream::codec {
namespace {

template <class T>
void invert_samples(const PixelConversion&, const std::byte* src, std::byte* dst, std::size_t pixels) {
  for (std::size_t i = 0; i < pixels; ++i, src += sizeof(T), dst += sizeof(T)) {
    T v;
    std::memcpy(&v, src, sizeof v);
    v = static_cast<T>(~v);  // max - v for unsigned samples
    std::memcpy(dst, &v, sizeof v);
  }
}

// 1-bit MinIsWhite decoded to 0 / m: m - v, with m in c.lookup[0].
void invert_bilevel(const PixelConversion& c, const std::byte* src, std::byte* dst, std::size_t pixels) {
  const unsigned max = c.lookup.front();
  for (std::size_t i = 0; i < pixels; ++i)
    dst[i] = static_cast<std::byte>(max - std::to_integer<unsigned>(src[i]));
}

template <class T>
void expand_palette(const PixelConversion& c, const std::byte* src, std::byte* dst, std::size_t pixels) {
  const auto* rgb = c.lookup.data();
  auto* out = reinterpret_cast<std::uint8_t*>(dst);
  for (std::size_t i = 0; i < pixels; ++i, src += sizeof(T), out += 3) {
    T index;
    std::memcpy(&index, src, sizeof index);
    std::memcpy(out, rgb + std::size_t{index} * 3, 3);
  }
}

void cmyk_to_rgb(const PixelConversion& c, const std::byte* src, std::byte* dst, std::size_t pixels) {
  const auto* in = reinterpret_cast<const std::uint8_t*>(src);
  auto* out = reinterpret_cast<std::uint8_t*>(dst);
  for (std::size_t i = 0; i < pixels; ++i, in += c.stored_samples, out += 3) {
    const unsigned k = 255u - in[3];
    for (int s = 0; s < 3; ++s) out[s] = static_cast<std::uint8_t>(k * (255u - in[s]) / 255u);
  }
}

PixelConversion same_as_stored(const StoredPixels& stored, const char* name) {
  PixelConversion c;
  c.stored_samples = c.samples = stored.samples;
  c.stored_dtype = c.dtype = stored.dtype;
  c.name = name;
  return c;
}

// Each plan checks the stored layout and fills the conversion, or throws UnsupportedError.
PixelConversion plan_as_stored(const StoredPixels& stored) { return same_as_stored(stored, "as stored"); }

PixelConversion plan_min_is_white(const StoredPixels& stored) {
  check<UnsupportedError>(stored.samples == 1, "MinIsWhite with ", stored.samples,
                          " samples per pixel is not converted (one sample is)");
  check<UnsupportedError>(!is_signed(stored.dtype) && !is_float(stored.dtype), "MinIsWhite with ",
                          is_float(stored.dtype) ? "floating-point" : "signed", " samples (", to_string(stored.dtype),
                          ") is not converted");
  if (stored.bilevel_max != 0) {
    PixelConversion c = same_as_stored(stored, "MinIsWhite 1-bit inverted");
    c.lookup = {stored.bilevel_max};
    c.convert = invert_bilevel;
    return c;
  }
  PixelConversion c = same_as_stored(stored, "MinIsWhite inverted");
  c.convert = stored.dtype == DType::uint8    ? invert_samples<std::uint8_t>
              : stored.dtype == DType::uint16 ? invert_samples<std::uint16_t>
                                              : invert_samples<std::uint32_t>;
  return c;
}

PixelConversion plan_palette(const StoredPixels& stored) {
  check<UnsupportedError>(stored.samples == 1, "Palette with ", stored.samples,
                          " samples per pixel is not converted (one sample is)");
  check<UnsupportedError>(!is_signed(stored.dtype) && !is_float(stored.dtype), "Palette with ",
                          is_float(stored.dtype) ? "floating-point" : "signed", " indices (", to_string(stored.dtype),
                          ") is not converted");
  check<UnsupportedError>(bytes_per_sample(stored.dtype) <= 2, "Palette with ", to_string(stored.dtype),
                          " indices is not converted (8- and 16-bit ones are)");
  const std::size_t entries = std::size_t{1} << (8 * bytes_per_sample(stored.dtype));
  check<UnsupportedError>(stored.color_map.size() == 3 * entries, "Palette image whose ColorMap has ",
                          stored.color_map.size(), " values, not 3 x ", entries);
  // libtiff's test: a map whose values all fit in 8 bits was written as an 8-bit map.
  const bool sixteen_bit =
      std::any_of(stored.color_map.begin(), stored.color_map.end(), [](std::uint64_t v) { return v > 255; });
  PixelConversion c = same_as_stored(stored, "Palette expanded to RGB");
  c.samples = 3;
  c.dtype = DType::uint8;
  c.lookup.resize(3 * entries);
  for (std::size_t i = 0; i < entries; ++i) {
    for (std::size_t s = 0; s < 3; ++s) {
      const std::uint64_t v = stored.color_map[s * entries + i];
      c.lookup[3 * i + s] = static_cast<std::uint8_t>(sixteen_bit ? (v >> 8) & 0xff : v);
    }
  }
  c.convert = stored.dtype == DType::uint8 ? expand_palette<std::uint8_t> : expand_palette<std::uint16_t>;
  return c;
}

PixelConversion plan_cmyk(const StoredPixels& stored) {
  check<UnsupportedError>(stored.ink_set == 1, "Separated with InkSet ", stored.ink_set,
                          " (not CMYK) is not converted");
  check<UnsupportedError>(stored.samples >= 4, "CMYK with ", stored.samples, " samples per pixel is not converted");
  check<UnsupportedError>(stored.dtype == DType::uint8, "CMYK with ", to_string(stored.dtype),
                          " samples is not converted (uint8 is)");
  check<UnsupportedError>(stored.planar_config == 1, "CMYK in separate planes is not converted");
  check<UnsupportedError>(stored.compression != compression::jpeg, "CMYK JPEG is not converted");
  PixelConversion c = same_as_stored(stored, "CMYK converted to RGB");
  c.samples = 3;
  c.convert = cmyk_to_rgb;
  return c;
}

PixelConversion plan_ycbcr(const StoredPixels& stored) {
  if (stored.compression == compression::jpeg2000_ycbcr)
    return same_as_stored(stored, "YCbCr converted by the Aperio JPEG 2000 decoder");
  check<UnsupportedError>(stored.compression == compression::jpeg,
                          "YCbCr outside JPEG (and Aperio's YCbCr JPEG 2000) is not converted to RGB");
  return same_as_stored(stored, "YCbCr converted by the JPEG decoder");
}

struct Converter {
  std::uint16_t photometric;
  PixelConversion (*plan)(const StoredPixels& stored);
};

constexpr Converter converters[] = {
    {photometric::min_is_white, plan_min_is_white},
    {photometric::min_is_black, plan_as_stored},
    {photometric::rgb, plan_as_stored},
    {photometric::palette, plan_palette},
    {photometric::separated, plan_cmyk},
    {photometric::ycbcr, plan_ycbcr},
};

}  // namespace

PixelConversion plan_conversion(const StoredPixels& stored) {
  for (const Converter& c : converters) {
    if (c.photometric != stored.photometric) continue;
    try {
      return c.plan(stored);
    } catch (const UnsupportedError& e) {
      throw UnsupportedError(concat("PhotometricInterpretation ", stored.photometric, " (",
                                    photometric_name(stored.photometric), "): ", e.what(),
                                    "; the stored samples can be read as they are (stored_samples)"));
    }
  }
  throw UnsupportedError(concat("PhotometricInterpretation ", stored.photometric, " (",
                                photometric_name(stored.photometric),
                                ") is not converted to RGB; the stored samples can be read as they are (stored_samples)"));
}

PixelConversion as_stored(const StoredPixels& stored) { return same_as_stored(stored, "as stored"); }

void convert_pixels(const PixelConversion& conversion, const std::byte* src, std::byte* dst, std::size_t pixels) {
  if (conversion.identity()) {
    std::memcpy(dst, src, pixels * conversion.pixel_bytes());
    return;
  }
  conversion.convert(conversion, src, dst, pixels);
}

const char* photometric_name(std::uint16_t photometric) {
  switch (photometric) {
    case 0: return "MinIsWhite";
    case 1: return "MinIsBlack";
    case 2: return "RGB";
    case 3: return "Palette";
    case 4: return "TransparencyMask";
    case 5: return "Separated";
    case 6: return "YCbCr";
    case 8: return "CIELab";
    case 9: return "ICCLab";
    case 10: return "ITULab";
    case 32803: return "CFA";
    case 32844: return "LogL";
    case 32845: return "LogLuv";
    case 34892: return "LinearRaw";
    default: return "unknown";
  }
}

}  // namespace tilestream::codec
