// write_synthetic_slide: options, level sizes, the Aperio-like description, and the page loop that
// feeds SlidePattern tiles into TiffWriter.
#include <algorithm>

#include "tilestream/core/error.hpp"
#include "tilestream/core/settings.hpp"
#include "tilestream/io/file.hpp"
#include "tilestream/synth/synth.hpp"
#include "tilestream/tiff/writer.hpp"

namespace tilestream::synth {
namespace {

// Uncompressed size above which `big_tiff` unset means BigTIFF: a margin below 4 GiB for the
// IFDs, and for compressed data that grows (random-looking tiles under LZW or PackBits).
constexpr std::uint64_t big_tiff_threshold = 3'900ull * 1024 * 1024;  // "3.9 GiB" in MiB steps

bool is_jpeg2000(std::uint16_t compression) {
  return compression == codec::compression::jpeg2000 || compression == codec::compression::jpeg2000_ycbcr ||
         compression == codec::compression::jpeg2000_rgb;
}

void validate(const SynthOptions& o) {
  check<UsageError>(o.width > 0 && o.height > 0, "synthetic slide size ", o.width, "x", o.height,
                    " is empty");
  check<UsageError>(o.width <= 0xFFFF'FFFFull && o.height <= 0xFFFF'FFFFull,
                    "synthetic slide size ", o.width, "x", o.height, " exceeds 2^32-1 a side");
  check<UsageError>(o.tile >= 16 && o.tile % 16 == 0 && o.tile <= 65536, "tile size ", o.tile,
                    " must be a multiple of 16 from 16 to 65536");
  check<UsageError>(o.samples == 1 || o.samples == 3 || o.samples == 4, "samples must be 1, 3 or 4, not ",
                    o.samples);
  check<UsageError>(o.levels <= 32, "at most 32 levels, not ", o.levels);
  const bool known = o.compression == codec::compression::none ||
                     o.compression == codec::compression::deflate ||
                     o.compression == codec::compression::adobe_deflate ||
                     o.compression == codec::compression::jpeg ||
                     o.compression == codec::compression::lzw ||
                     o.compression == codec::compression::packbits ||
                     o.compression == codec::compression::zstd || o.compression == codec::compression::lzma ||
                     o.compression == codec::compression::webp || is_jpeg2000(o.compression);
  check<UsageError>(known,
                    "synthetic slides use none, deflate, jpeg, lzw, packbits, zstd, lzma, webp or JPEG 2000 "
                    "(34712, 33003, 33005) compression, not ",
                    codec::compression_name(o.compression));
  const std::string missing = codec::not_built_reason(o.compression);
  check<UnsupportedError>(missing.empty(), "synthetic slides in ", codec::compression_name(o.compression), ": ",
                          missing);
  if (o.compression == codec::compression::webp) {
    check<UsageError>(o.dtype == DType::uint8 && o.samples != 1, "WebP compression needs 3 or 4 uint8 samples, not ",
                      o.samples, " ", to_string(o.dtype));
  }
  if (is_jpeg2000(o.compression)) {
    check<UsageError>(o.jpeg2000_quality < 0 || (o.jpeg2000_quality >= 1 && o.jpeg2000_quality <= 100),
                      "JPEG 2000 quality must be 1 to 100 (or unset: lossless), not ", o.jpeg2000_quality);
  }
  if (o.compression == codec::compression::jpeg2000_ycbcr || o.compression == codec::compression::jpeg2000_rgb) {
    check<UsageError>(o.dtype == DType::uint8 && o.samples == 3 && o.tiled, codec::compression_name(o.compression),
                      " needs tiles of 3 uint8 samples, not ", o.tiled ? "tiles" : "strips", " of ", o.samples,
                      " ", to_string(o.dtype));
  }
  if (o.compression == codec::compression::jpeg) {
    check<UsageError>(o.jpeg_quality >= 1 && o.jpeg_quality <= 100, "JPEG quality must be 1 to 100, not ",
                      o.jpeg_quality);
    check<UsageError>(o.dtype == DType::uint8, "JPEG compression needs uint8 samples, not ", to_string(o.dtype));
    check<UsageError>(o.samples != 4, "JPEG compression of 4-sample (RGBA) images is not supported");
  }
  const bool predictable = o.compression == codec::compression::lzw ||
                           o.compression == codec::compression::deflate ||
                           o.compression == codec::compression::adobe_deflate ||
                           o.compression == codec::compression::zstd || o.compression == codec::compression::lzma;
  check<UsageError>(!o.predictor || predictable, "the predictor needs lzw, deflate, zstd or lzma compression, not ",
                    codec::compression_name(o.compression));
  if (!o.tiled) {
    check<UsageError>(o.rows_per_strip > 0, "rows per strip must be positive");
    check<UsageError>(o.compression != codec::compression::jpeg || o.rows_per_strip % 16 == 0,
                      "JPEG strips need rows per strip to be a multiple of 16, not ", o.rows_per_strip);
  }
}

const char* aperio_compression_label(const SynthOptions& o) {
  switch (o.compression) {
    case codec::compression::jpeg: return "JPEG/RGB";
    case codec::compression::lzw: return "LZW";
    case codec::compression::deflate:
    case codec::compression::adobe_deflate: return "Deflate";
    case codec::compression::packbits: return "PackBits";
    case codec::compression::jpeg2000_ycbcr: return "J2K/YUV16";
    case codec::compression::jpeg2000_rgb: return "J2K/RGB";
    case codec::compression::jpeg2000: return "J2K";
    default: return "RAW";
  }
}

}  // namespace

SynthOptions seed_shape_options() {
  SynthOptions o;
  o.width = 19920;
  o.height = 26420;
  o.tile = 512;
  o.compression = codec::compression::none;
  o.samples = 3;
  o.dtype = DType::uint8;
  o.levels = 0;
  return o;
}

std::vector<LevelSize> synthetic_level_sizes(const SynthOptions& o) {
  validate(o);
  std::vector<LevelSize> sizes;
  for (unsigned k = 0;; ++k) {
    const std::uint64_t step = std::uint64_t{1} << k;
    const LevelSize size{(o.width + step - 1) / step, (o.height + step - 1) / step};
    sizes.push_back(size);
    if (o.levels != 0 ? sizes.size() == o.levels : (size.width <= o.tile && size.height <= o.tile))
      break;
    if (size.width == 1 && size.height == 1) break;  // cannot halve further
  }
  return sizes;
}

bool synthetic_needs_big_tiff(const SynthOptions& o) {
  if (o.big_tiff.has_value()) return *o.big_tiff;
  std::uint64_t bytes = 0;
  for (const LevelSize& level : synthetic_level_sizes(o))
    bytes += level.width * level.height * o.samples * bytes_per_sample(o.dtype);
  return bytes > big_tiff_threshold;
}

std::string aperio_description(const SynthOptions& o) {
  std::string quality = o.compression == codec::compression::jpeg ? concat(" Q=", o.jpeg_quality) : "";
  if (is_jpeg2000(o.compression) && o.jpeg2000_quality > 0) quality = concat(" Q=", o.jpeg2000_quality);
  return concat("Aperio Image Library v12.0.15 \r\n", o.width, "x", o.height, " [0,0 ", o.width, "x",
                o.height, "] (", o.tile, "x", o.tile, ") ", aperio_compression_label(o), quality,
                "|AppMag = 20|StripeWidth = 2040|ScanScope ID = SS0001|Filename = synthetic-", o.seed,
                "|Date = 01/02/26|Time = 12:00:00|Time Zone = GMT+00:00|User = tilestream synth",
                "|MPP = 0.4990|Left = 25.000000|Top = 18.000000|LineCameraSkew = 0.000000",
                "|LineAreaXOffset = 0.000000|LineAreaYOffset = 0.000000|Focus Offset = 0.000000",
                "|ImageID = ", o.seed, "|OriginalWidth = ", o.width, "|OriginalHeight = ", o.height,
                "|Filtered = 5|Exposure Time = 109|Gamma = 2.2");
}

SynthResult write_synthetic_slide(const std::string& path, const SynthOptions& o) {
  SynthResult result;
  result.levels = synthetic_level_sizes(o);
  result.big_tiff = synthetic_needs_big_tiff(o);
  const unsigned threads = resolve_threads(o.threads);
  const SlidePattern pattern(o.seed);

  tiff::PageSpec base;
  base.samples = o.samples;
  base.dtype = o.dtype;
  base.tiled = o.tiled;
  base.tile_width = base.tile_height = o.tile;
  base.rows_per_strip = o.rows_per_strip;
  base.compression = o.compression;
  base.predictor = o.predictor ? 2 : 1;
  base.encode.jpeg_quality = o.jpeg_quality;
  base.encode.jpeg_ycbcr = o.jpeg_ycbcr;
  base.encode.jpeg_ycbcr_sampling = o.jpeg_ycbcr_sampling;
  base.encode.jpeg_progressive = o.jpeg_progressive;
  base.encode.jpeg2000_quality = o.jpeg2000_quality;

  tiff::TiffWriter writer(path, tiff::WriterOptions{result.big_tiff, o.big_endian});
  auto add = [&](tiff::PageSpec page, unsigned level, LevelSize size) {
    page.width = size.width;
    page.height = size.height;
    writer.add_page(
        page,
        [&](std::uint64_t x0, std::uint64_t y0, std::uint32_t width, std::uint32_t rows,
            std::span<std::byte> pixels) {
          pattern.render(level, x0, y0, width, rows, o.samples, o.dtype, pixels);
        },
        threads);
  };
  const std::string aperio_header = "Aperio Image Library v12.0.15 \r\n";
  for (std::size_t k = 0; k < result.levels.size(); ++k) {
    tiff::PageSpec page = base;
    const auto level = static_cast<unsigned>(k);
    if (!o.aperio_description) {
      page.subfile_type = k == 0 ? 0 : 1;
      add(page, level, result.levels[k]);
      continue;
    }
    // Aperio layout: reduced levels are plain pages (NewSubfileType 0) and the second page is a
    // stripped thumbnail, which is what readers of SVS (openslide, tifffile) expect.
    page.description = k == 0 ? aperio_description(o)
                              : concat(aperio_header, o.width, "x", o.height, " [0,0 ", o.width, "x",
                                       o.height, "] (", o.tile, "x", o.tile, ") -> ",
                                       result.levels[k].width, "x", result.levels[k].height, " ",
                                       aperio_compression_label(o));
    add(page, level, result.levels[k]);
    if (k == 0) {
      unsigned thumb_level = 0;
      while (std::max((o.width - 1) >> thumb_level, (o.height - 1) >> thumb_level) + 1 > 1024) ++thumb_level;
      const std::uint64_t step = std::uint64_t{1} << thumb_level;
      result.thumbnail = LevelSize{(o.width + step - 1) / step, (o.height + step - 1) / step};
      tiff::PageSpec thumb = base;
      thumb.tiled = false;
      thumb.rows_per_strip = 16;
      if (is_jpeg2000(o.compression)) thumb.compression = codec::compression::jpeg;  // as Aperio writes it
      thumb.description = concat(aperio_header, o.width, "x", o.height, " -> ", result.thumbnail->width,
                                 "x", result.thumbnail->height, " - ");
      add(thumb, thumb_level, *result.thumbnail);
    }
  }
  writer.finish();
  result.file_bytes = io::ReadFile(path).size();
  return result;
}

}  // namespace tilestream::synth
