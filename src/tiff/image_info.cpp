// Validation of one IFD's image tags into an ImageInfo.
#include "tiff/image_info.hpp"

#include <algorithm>

#include "tilestream/codec/codec.hpp"
#include "tilestream/core/error.hpp"
#include "tiff/tags.hpp"

namespace tilestream::tiff::detail {
namespace {

// Throws FormatError "<file>: <IFD>: <message>".
template <class... Parts>
void require(bool ok, const IfdReader& r, const Ifd& ifd, const Parts&... parts) {
  if (!ok) throw FormatError(concat(r.file(), ": ", ifd.label, ": ", parts...));
}

std::uint64_t required_uint(const IfdReader& r, const Ifd& ifd, std::uint16_t t) {
  const auto v = r.uint(ifd, t);
  require(v.has_value(), r, ifd, "required tag ", tag_name(t), " is missing");
  return *v;
}

// The stored sample type. SampleFormat may hold one value per sample: they must agree, as libtiff,
// OpenSlide and tifffile require (a file mixing integer and float samples is refused, not read as
// the first sample's type).
DType sample_type(const IfdReader& r, const Ifd& ifd, std::uint64_t bits) {
  std::uint64_t format = 1;
  if (const Entry* e = ifd.find(tag::sample_format)) {
    const auto all = r.uints(ifd, *e);
    require(!all.empty(), r, ifd, "SampleFormat has no values");
    format = all.front();
    if (std::any_of(all.begin(), all.end(), [&](std::uint64_t f) { return f != format; })) {
      std::string values;
      for (const auto f : all) values += concat(values.empty() ? "" : ", ", f);
      throw UnsupportedError(concat(r.file(), ": ", ifd.label, ": samples with different SampleFormat (", values,
                                    ") are not supported"));
    }
  }
  if (format == 3) {
    if (bits == 32) return DType::float32;
    if (bits == 16) return DType::float16;
    throw UnsupportedError(concat(r.file(), ": ", ifd.label, ": ", bits,
                                  "-bit floating-point samples are not supported (16- and 32-bit ones are)"));
  }
  if (format != 1 && format != 2) {
    throw UnsupportedError(concat(r.file(), ": ", ifd.label, ": SampleFormat ", format,
                                  " is not supported (unsigned and signed integers and floating point are)"));
  }
  if (bits == 1) {  // bilevel: unpacked to one uint8 a pixel (check_bilevel says which images)
    if (format == 1) return DType::uint8;
    throw UnsupportedError(concat(r.file(), ": ", ifd.label,
                                  ": 1-bit samples with SampleFormat 2 (signed integer) are not supported "
                                  "(1-bit ones are unsigned, SampleFormat 1)"));
  }
  if (bits != 8 && bits != 16 && bits != 32) {
    throw UnsupportedError(concat(r.file(), ": ", ifd.label, ": BitsPerSample ", bits,
                                  " is not supported for integer samples (1, 8, 16 and 32 are)"));
  }
  if (format == 2) return bits == 8 ? DType::int8 : bits == 16 ? DType::int16 : DType::int32;
  return bits == 8 ? DType::uint8 : bits == 16 ? DType::uint16 : DType::uint32;
}

// 1-bit images: one sample, MinIsBlack or MinIsWhite, a byte-stream compression (CCITT's are not
// decoded), FillOrder 1 or 2. Throws UnsupportedError naming the file, IFD and what is refused.
void check_bilevel(const IfdReader& r, const Ifd& ifd, const ImageInfo& im) {
  const auto refuse = [&](const auto&... parts) {
    throw UnsupportedError(concat(r.file(), ": ", ifd.label, ": 1-bit images ", parts...));
  };
  if (im.stored_samples != 1) refuse("with ", im.stored_samples, " samples per pixel are not supported (one sample is)");
  if (im.photometric != codec::photometric::min_is_black && im.photometric != codec::photometric::min_is_white) {
    refuse("with PhotometricInterpretation ", im.photometric, " (", codec::photometric_name(im.photometric),
           ") are not supported (MinIsBlack and MinIsWhite ones are)");
  }
  if (im.compression == codec::compression::jpeg || im.compression == codec::compression::webp) {
    refuse("in ", codec::compression_name(im.compression), " are not supported (uncompressed, LZW, deflate, PackBits, ",
           "zstd and LZMA ones are)");
  }
  if (im.predictor != 1) refuse("with Predictor ", im.predictor, " are not supported (as in libtiff)");
  if (im.fill_order != 1 && im.fill_order != 2) refuse("with FillOrder ", im.fill_order, " are invalid (1 or 2)");
}

// How the stored samples become pixels: the photometric table's plan, or the samples as stored.
codec::PixelConversion pixel_conversion(const IfdReader& r, const Ifd& ifd, const ImageInfo& im,
                                        const PixelOptions& options) {
  codec::StoredPixels stored = im.stored_pixels();
  if (options.stored_samples) return codec::as_stored(stored);
  stored.ink_set = static_cast<std::uint16_t>(r.uint(ifd, tag::ink_set).value_or(1));
  std::vector<std::uint64_t> color_map;
  if (const Entry* e = ifd.find(tag::color_map); e != nullptr && im.photometric == codec::photometric::palette) {
    color_map = r.uints(ifd, *e);
  }
  stored.color_map = color_map;
  try {
    return codec::plan_conversion(stored);
  } catch (const UnsupportedError& e) {
    throw UnsupportedError(concat(r.file(), ": ", ifd.label, ": ", e.what()));
  }
}

// Why JPEG 2000 tiles of this image cannot be read, or "": Aperio's (33003, 33005) hold three
// interleaved 8-bit components, as OpenSlide requires; the others integer samples of up to 16 bits.
std::string jpeg2000_refusal(const ImageInfo& im) {
  const bool aperio = im.compression == codec::compression::jpeg2000_ycbcr ||
                      im.compression == codec::compression::jpeg2000_rgb;
  if (aperio && (im.stored_dtype != DType::uint8 || im.stored_samples != 3 || im.planar_config == 2)) {
    return concat(codec::compression_name(im.compression), " tiles hold 3 interleaved uint8 samples, not ",
                  im.stored_samples, " ", to_string(im.stored_dtype),
                  im.planar_config == 2 ? " in separate planes" : "");
  }
  const bool jpeg2000 = aperio || im.compression == codec::compression::jpeg2000 ||
                        im.compression == codec::compression::jpeg2000_lossy;
  if (jpeg2000 && is_float(im.stored_dtype))
    return concat("JPEG 2000 tiles of ", to_string(im.stored_dtype),
                  " samples are not supported (integers are)");
  return "";
}

}  // namespace

ImageInfo build_image_info(const IfdReader& r, const Ifd& ifd, std::uint32_t ifd_number,
                           const ParseLimits& limits, const PixelOptions& pixels) {
  ImageInfo im;
  im.ifd_number = ifd_number;
  im.ifd_offset = ifd.offset;
  im.ifd_label = ifd.label;
  im.big_endian = r.header().big_endian;
  im.width = required_uint(r, ifd, tag::image_width);
  im.height = required_uint(r, ifd, tag::image_length);
  require(im.width > 0 && im.height > 0, r, ifd, "image size ", im.width, " x ", im.height, " is empty");
  require(im.width <= UINT32_MAX && im.height <= UINT32_MAX && im.width * im.height <= limits.max_image_pixels,
          r, ifd, "image size ", im.width, " x ", im.height, " is absurd (more than ",
          limits.max_image_pixels, " pixels)");

  im.stored_samples = static_cast<std::uint32_t>(r.uint(ifd, tag::samples_per_pixel).value_or(1));
  require(im.stored_samples >= 1 && im.stored_samples <= 16, r, ifd, "SamplesPerPixel ", im.stored_samples,
          " is out of range (1 to 16)");
  std::uint64_t bits = 1;
  if (const Entry* e = ifd.find(tag::bits_per_sample)) {
    const auto all = r.uints(ifd, *e);
    require(!all.empty(), r, ifd, "BitsPerSample has no values");
    bits = all.front();
    for (const auto b : all) {
      if (b != bits) throw UnsupportedError(concat(r.file(), ": ", ifd.label,
                                                   ": samples with different BitsPerSample are not supported"));
    }
  }
  im.bits_per_sample = static_cast<std::uint16_t>(std::min<std::uint64_t>(bits, 65535));
  im.compression = static_cast<std::uint16_t>(r.uint(ifd, tag::compression).value_or(1));
  im.photometric = static_cast<std::uint16_t>(
      r.uint(ifd, tag::photometric).value_or(im.stored_samples >= 3 ? codec::photometric::rgb : 1));
  im.predictor = static_cast<std::uint16_t>(r.uint(ifd, tag::predictor).value_or(1));
  im.planar_config = static_cast<std::uint16_t>(r.uint(ifd, tag::planar_config).value_or(1));
  im.fill_order = static_cast<std::uint16_t>(std::min<std::uint64_t>(r.uint(ifd, tag::fill_order).value_or(1), 65535));
  im.bilevel_max = pixels.bilevel_max;
  require(im.planar_config == 1 || im.planar_config == 2, r, ifd, "PlanarConfiguration ",
          im.planar_config, " is invalid (1 or 2)");
  im.subfile_type = static_cast<std::uint32_t>(r.uint(ifd, tag::new_subfile_type).value_or(0));
  im.description = r.text(ifd, tag::image_description).value_or("");
  if (const Entry* e = ifd.find(tag::ycbcr_subsampling); e != nullptr && e->count >= 2) {
    const auto v = r.uints(ifd, *e);
    im.ycbcr_subsampling[0] = static_cast<std::uint16_t>(std::min<std::uint64_t>(v[0], 65535));
    im.ycbcr_subsampling[1] = static_cast<std::uint16_t>(std::min<std::uint64_t>(v[1], 65535));
  }
  if (const Entry* e = ifd.find(tag::jpeg_tables)) im.jpeg_tables = r.raw(ifd, *e);

  const Entry* offsets;
  const Entry* counts;
  if (ifd.find(tag::tile_width) != nullptr || ifd.find(tag::tile_offsets) != nullptr) {
    im.tiled = true;
    const std::uint64_t tw = required_uint(r, ifd, tag::tile_width);
    const std::uint64_t th = required_uint(r, ifd, tag::tile_length);
    require(tw > 0 && th > 0 && tw <= 65536 && th <= 65536, r, ifd, "tile size ", tw, " x ", th,
            " is invalid (1 to 65536)");
    im.tile_width = static_cast<std::uint32_t>(tw);
    im.tile_height = static_cast<std::uint32_t>(th);
    offsets = ifd.find(tag::tile_offsets);
    counts = ifd.find(tag::tile_byte_counts);
    require(offsets != nullptr, r, ifd, "tiled image without TileOffsets");
    require(counts != nullptr, r, ifd, "tiled image without TileByteCounts");
  } else {
    im.tiled = false;
    im.tile_width = static_cast<std::uint32_t>(im.width);
    const std::uint64_t rows = r.uint(ifd, tag::rows_per_strip).value_or(im.height);
    require(rows > 0, r, ifd, "RowsPerStrip is 0");
    im.tile_height = static_cast<std::uint32_t>(std::min(rows, im.height));
    offsets = ifd.find(tag::strip_offsets);
    counts = ifd.find(tag::strip_byte_counts);
    require(offsets != nullptr, r, ifd, "image has neither TileOffsets nor StripOffsets");
    require(counts != nullptr, r, ifd, "stripped image without StripByteCounts");
  }

  const char* unit = im.tiled ? "tile" : "strip";
  const std::uint64_t chunk_bytes = std::uint64_t{im.tile_width} * im.tile_height *
                                    im.samples_per_chunk() *
                                    std::max<std::uint64_t>(1, im.bits_per_sample / 8);  // clamped: no overflow
  require(chunk_bytes <= limits.max_tile_bytes, r, ifd, "a decoded ", unit, " of ", im.tile_width,
          " x ", im.tile_height, " would need ", chunk_bytes, " bytes (limit ", limits.max_tile_bytes, ")");
  const std::uint64_t expected = std::uint64_t{im.tiles_across()} * im.tiles_down() * im.planes();
  require(expected <= limits.max_tiles_per_image, r, ifd, "image needs ", expected, " ", unit,
          "s, more than allowed (", limits.max_tiles_per_image, ")");
  require(offsets->count >= expected, r, ifd, tag_name(offsets->tag), " has ", offsets->count,
          " entries but the image needs ", expected, " ", unit, "s");
  require(counts->count == offsets->count, r, ifd, tag_name(counts->tag), " has ", counts->count,
          " entries but ", tag_name(offsets->tag), " has ", offsets->count);
  im.tile_offsets = r.uints(ifd, *offsets);
  im.tile_byte_counts = r.uints(ifd, *counts);
  im.tile_offsets.resize(expected);
  im.tile_byte_counts.resize(expected);

  const std::uint64_t file_size = r.file_size();
  for (std::size_t i = 0; i < expected; ++i) {
    const std::uint64_t offset = im.tile_offsets[i], count = im.tile_byte_counts[i];
    if (count == 0) continue;  // a sparse (never written) tile: reads as zeros, as libtiff and tifffile do
    require(offset <= file_size && count <= file_size - offset, r, ifd, unit, " ", i, " at offset ",
            offset, " with ", count, " bytes extends past the end of the file (", file_size,
            " bytes): the file is truncated or its ", tag_name(offsets->tag), " / ", tag_name(counts->tag),
            " are corrupt");
  }

  // Readability: decided here, reported when someone reads the image, so that one odd image
  // (a 1-bit label, a JPEG 2000 macro) does not keep the rest of the slide from opening.
  try {
    im.stored_dtype = sample_type(r, ifd, bits);  // the unclamped value, for the message
    if (bits == 1) check_bilevel(r, ifd, im);
    if (!codec::is_supported(im.compression)) {
      const std::string why = codec::not_built_reason(im.compression);
      throw UnsupportedError(concat(r.file(), ": ", ifd.label, ": compression ",
                                    codec::compression_name(im.compression), " (", im.compression,
                                    ") is not supported", why.empty() ? "" : concat(" (", why, ")")));
    }
    if (const std::string why = jpeg2000_refusal(im); !why.empty())
      throw UnsupportedError(concat(r.file(), ": ", ifd.label, ": ", why));
    if (im.photometric == codec::photometric::ycbcr && im.compression != codec::compression::jpeg &&
        im.compression != codec::compression::jpeg2000_ycbcr &&  // its subsampling is in the codestream
        (im.ycbcr_subsampling[0] != 1 || im.ycbcr_subsampling[1] != 1)) {
      throw UnsupportedError(concat(r.file(), ": ", ifd.label,
                                    ": subsampled YCbCr outside JPEG is not supported"));
    }
    if (im.compression == codec::compression::webp &&
        (im.stored_dtype != DType::uint8 || (im.stored_samples != 3 && im.stored_samples != 4) ||
         (im.planar_config == 2 && im.stored_samples > 1))) {
      throw UnsupportedError(concat(r.file(), ": ", ifd.label, ": WebP tiles hold interleaved 8-bit RGB or RGBA, not ",
                                    im.stored_samples, " ", to_string(im.stored_dtype), " sample",
                                    im.stored_samples == 1 ? "" : "s",
                                    im.planar_config == 2 ? " in separate planes" : ""));
    }
    if (im.compression == codec::compression::jpeg && im.planar_config == 2 && im.stored_samples > 1) {
      throw UnsupportedError(concat(r.file(), ": ", ifd.label, ": JPEG with separate planes is not supported"));
    }
    im.conversion = pixel_conversion(r, ifd, im, pixels);
  } catch (const UnsupportedError& e) {
    im.unsupported_reason = e.what();
    codec::StoredPixels stored;
    stored.samples = im.stored_samples;
    stored.dtype = im.stored_dtype;
    im.conversion = codec::as_stored(stored);  // what `info` shows for an image nobody can read
  }
  im.samples = im.conversion.samples;
  im.dtype = im.conversion.dtype;
  return im;
}

}  // namespace tilestream::tiff::detail
