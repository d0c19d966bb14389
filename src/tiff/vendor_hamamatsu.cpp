// Hamamatsu NDPI: a TIFF whose IFDs carry vendor tags; SourceLens > 0 marks pyramid levels (at
// focal plane ZOffset 0), -1 the macro image and -2 the map. Properties as OpenSlide's NDPI format
// gives them: hamamatsu.* from the first IFD's vendor tags and its "key=value" property map.
// A level is one JPEG strip with restart markers; as OpenSlide and tifffile do, its tiles are the
// restart intervals (found through McuStarts, or by scanning the strip where that tag is absent), each
// decoded after the strip's header with the frame's size set to one interval's, so that levels wider or
// taller than libjpeg's 65,500 pixels read and a region decodes only the intervals it touches. The level
// list is OpenSlide's: each stored level and its copies at 1/2, 1/4 and 1/8 that libjpeg's DCT scaling
// makes of its tiles.
#include <algorithm>
#include <functional>
#include <map>

#include "tilestream/codec/codec.hpp"
#include "tilestream/codec/jpeg_stream.hpp"
#include "tilestream/core/error.hpp"
#include "tiff/tags.hpp"
#include "tiff/walk.hpp"

namespace tilestream::tiff::detail {
namespace {

// libjpeg's JPEG_MAX_DIMENSION: the largest frame side it decodes.
constexpr std::uint64_t jpeg_max_dimension = 65500;
// The strip's header (markers up to the scan) must lie in its first bytes.
constexpr std::uint64_t max_header_bytes = 1u << 20;
// Restart intervals one level may have (ParseLimits::max_tiles_per_image's default).
constexpr std::uint64_t max_intervals = std::uint64_t{1} << 26;

// Throws FormatError "<file>: <IFD>: <message>".
template <class... Parts>
[[noreturn]] void fail(const IfdReader& r, const Ifd& ifd, const Parts&... parts) {
  throw FormatError(concat(r.file(), ": ", ifd.label, ": ", parts...));
}

// The restart intervals' starts, from the strip's first byte, as McuStarts (and McuStartsHighBytes) give
// them; the first is the end of the header, as OpenSlide takes it.
std::vector<std::uint64_t> starts_from_tags(const IfdReader& r, const Ifd& ifd, const Entry& low,
                                            std::uint64_t count, const std::string& grid,
                                            std::uint64_t header_length, std::uint64_t strip_bytes) {
  if (low.count != count) {
    fail(r, ifd, tag_name(tag::ndpi_mcu_starts), " has ", low.count, " entries but the level has ", grid);
  }
  std::vector<std::uint64_t> starts = r.uints(ifd, low);
  if (const Entry* high = ifd.find(tag::ndpi_mcu_starts_high)) {
    if (high->count != count) {
      fail(r, ifd, tag_name(tag::ndpi_mcu_starts_high), " has ", high->count, " entries but the level has ",
           grid);
    }
    const std::vector<std::uint64_t> highs = r.uints(ifd, *high);
    for (std::size_t i = 0; i < starts.size(); ++i) starts[i] = (starts[i] & 0xffffffffu) | highs[i] << 32;
  }
  starts[0] = header_length;
  for (std::size_t i = 1; i < starts.size(); ++i) {
    if (starts[i] <= starts[i - 1]) {
      fail(r, ifd, tag_name(tag::ndpi_mcu_starts), " entry ", i, " (", starts[i], ") is not after entry ",
           i - 1, " (", starts[i - 1], i == 1 ? ", the header's end" : "",
           "): the restart intervals are out of order");
    }
    if (starts[i] >= strip_bytes) {
      fail(r, ifd, tag_name(tag::ndpi_mcu_starts), " entry ", i, " (", starts[i],
           ") lies past the JPEG strip's ", strip_bytes, " bytes");
    }
  }
  return starts;
}

// The restart intervals' starts found as OpenSlide finds them without McuStarts: after each restart
// marker (0xFFD0-0xFFD7) of the strip's entropy-coded data, read from the file.
std::vector<std::uint64_t> starts_from_markers(const IfdReader& r, const Ifd& ifd, std::uint64_t strip_offset,
                                               std::uint64_t strip_bytes, std::uint64_t count,
                                               const std::string& grid, std::uint64_t header_length) {
  std::vector<std::uint64_t> starts{header_length};
  std::vector<std::byte> chunk;
  bool after_ff = false;
  for (std::uint64_t at = header_length; at < strip_bytes && starts.size() < count;) {
    chunk.resize(static_cast<std::size_t>(std::min<std::uint64_t>(strip_bytes - at, 1u << 20)));
    r.source().read_exact(strip_offset + at, chunk);
    for (std::size_t i = 0; i < chunk.size() && starts.size() < count; ++i) {
      const auto b = static_cast<std::uint8_t>(chunk[i]);
      if (after_ff && b >= 0xD0 && b <= 0xD7) starts.push_back(at + i + 1);
      after_ff = b == 0xFF;
    }
    at += chunk.size();
  }
  if (starts.size() < count) {
    fail(r, ifd, "the JPEG strip (", tag_name(tag::strip_offsets), ") holds ", starts.size() - 1,
         " restart markers, the level has ", grid, " (it has no ", tag_name(tag::ndpi_mcu_starts), ")");
  }
  return starts;
}

// A level's image with its restart intervals as tiles. Images that are not one JPEG strip with restart
// markers stay as they are, and so do strips whose header cannot be read: reading them reports it.
ImageInfo by_restart_interval(const IfdReader& r, const Ifd& ifd, ImageInfo image) {
  if (!image.unsupported_reason.empty() || image.tiled || image.compression != codec::compression::jpeg ||
      image.tile_offsets.size() != 1 || image.tile_byte_counts[0] == 0) {
    return image;
  }
  const std::uint64_t strip_offset = image.tile_offsets[0], strip_bytes = image.tile_byte_counts[0];
  std::vector<std::byte> head(static_cast<std::size_t>(std::min(strip_bytes, max_header_bytes)));
  r.source().read_exact(strip_offset, head);
  codec::JpegHeader header;
  try {
    header = codec::read_jpeg_header(head);
  } catch (const CodecError&) {
    return image;
  }
  const codec::JpegFrame& frame = header.frame;
  if (image.width <= jpeg_max_dimension && image.height <= jpeg_max_dimension &&
      (frame.width != image.width || frame.height != image.height)) {
    fail(r, ifd, "the JPEG frame is ", frame.width, " x ", frame.height, ", the image ", image.width, " x ",
         image.height, " (", tag_name(tag::image_width), " / ", tag_name(tag::image_length), ")");
  }
  if (header.restart_interval == 0) {
    if (image.width > jpeg_max_dimension || image.height > jpeg_max_dimension) {
      image.unsupported_reason =
          concat(r.file(), ": ", ifd.label, ": a JPEG strip of ", image.width, " x ", image.height,
                 " without restart markers (libjpeg decodes at most ", jpeg_max_dimension, " pixels a side)");
    }
    return image;
  }
  // An MCU: 8 x 8 pixels in a scan of one component, else the largest sampling factors' blocks.
  std::uint32_t mcu_width = 8, mcu_height = 8;
  if (header.scan_components > 1) {
    const std::size_t n = std::min<std::size_t>(frame.components, 4);
    mcu_width = 8u * *std::max_element(frame.h.begin(), frame.h.begin() + static_cast<std::ptrdiff_t>(n));
    mcu_height = 8u * *std::max_element(frame.v.begin(), frame.v.begin() + static_cast<std::ptrdiff_t>(n));
  }
  const std::uint64_t mcus_per_row = (image.width + mcu_width - 1) / mcu_width;
  if (header.restart_interval > mcus_per_row || mcus_per_row % header.restart_interval != 0) {
    fail(r, ifd, "the JPEG strip's restart interval of ", header.restart_interval,
         " MCUs does not divide its rows of ", mcus_per_row, " MCUs");
  }
  const std::uint64_t tile_width = std::uint64_t{mcu_width} * header.restart_interval;
  const std::uint64_t across = mcus_per_row / header.restart_interval;
  const std::uint64_t down = (image.height + mcu_height - 1) / mcu_height;
  const std::uint64_t count = across * down;
  if (count == 1) return image;
  if (count > max_intervals)
    fail(r, ifd, "the JPEG strip has ", count, " restart intervals, more than allowed (", max_intervals, ")");
  if (tile_width > jpeg_max_dimension) {
    image.unsupported_reason =
        concat(r.file(), ": ", ifd.label, ": JPEG restart intervals of ", tile_width,
               " pixels wide (libjpeg decodes at most ", jpeg_max_dimension, " pixels a side)");
    return image;
  }
  const std::string grid = concat(across, " x ", down, " = ", count, " restart intervals of ", tile_width,
                                  " x ", mcu_height, " pixels");
  const std::vector<std::uint64_t> starts =
      ifd.find(tag::ndpi_mcu_starts) != nullptr
          ? starts_from_tags(r, ifd, *ifd.find(tag::ndpi_mcu_starts), count, grid, header.length, strip_bytes)
          : starts_from_markers(r, ifd, strip_offset, strip_bytes, count, grid, header.length);
  image.tiled = true;
  image.tile_width = static_cast<std::uint32_t>(tile_width);
  image.tile_height = mcu_height;
  image.tile_offsets.resize(starts.size());
  image.tile_byte_counts.resize(starts.size());
  for (std::size_t i = 0; i < starts.size(); ++i) {
    image.tile_offsets[i] = strip_offset + starts[i];
    image.tile_byte_counts[i] = (i + 1 < starts.size() ? starts[i + 1] : strip_bytes) - starts[i];
  }
  image.jpeg_header.assign(head.begin(), head.begin() + static_cast<std::ptrdiff_t>(header.length));
  codec::set_jpeg_frame_size(image.jpeg_header, header, static_cast<std::uint16_t>(tile_width),
                             static_cast<std::uint16_t>(mcu_height));
  return image;
}

bool detect_hamamatsu(const Walk& walk) {
  return walk.ifds.front().find(tag::ndpi_format_flag) != nullptr;
}

// A signed integer tag (SBYTE, SSHORT, SLONG, SLONG8) as OpenSlide reads one: other types give none.
std::optional<std::int64_t> signed_tag(const IfdReader& r, const Ifd& ifd, std::uint16_t t) {
  const Entry* e = ifd.find(t);
  if (e == nullptr || e->count == 0) return std::nullopt;
  const std::uint64_t v = r.uint(ifd, *e);
  switch (e->type) {
    case 6: return static_cast<std::int8_t>(v);
    case 8: return static_cast<std::int16_t>(v);
    case 9: return static_cast<std::int32_t>(v);
    case 17: return static_cast<std::int64_t>(v);
    default: return std::nullopt;
  }
}

void add_ndpi_properties(const Walk& walk, SlideIndex& index) {
  const IfdReader& r = walk.reader;
  const Ifd& ifd = walk.ifds.front();
  add_mpp_from_resolution(walk, 0, index);
  if (const Entry* e = ifd.find(tag::ndpi_source_lens); e != nullptr && (e->type == 11 || e->type == 12 || e->type == 5)) {
    if (const auto lens = r.real(ifd, tag::ndpi_source_lens)) {
      index.properties["hamamatsu.SourceLens"] = openslide_double(*lens);
      index.properties["openslide.objective-power"] = openslide_double(*lens);
    }
  }
  if (const auto v = signed_tag(r, ifd, tag::ndpi_x_offset)) index.properties["hamamatsu.XOffsetFromSlideCentre"] = std::to_string(*v);
  if (const auto v = signed_tag(r, ifd, tag::ndpi_y_offset)) index.properties["hamamatsu.YOffsetFromSlideCentre"] = std::to_string(*v);
  if (const auto v = r.text(ifd, tag::ndpi_reference)) index.properties["hamamatsu.Reference"] = *v;
  // The property map: records "key=value" separated by CR LF; records with an empty key or value are skipped.
  if (const auto map = r.text(ifd, tag::ndpi_property_map)) {
    std::size_t start = 0;
    while (start <= map->size()) {
      std::size_t end = map->find("\r\n", start);
      if (end == std::string::npos) end = map->size();
      const std::string record = map->substr(start, end - start);
      const std::size_t eq = record.find('=');
      if (eq != std::string::npos && eq > 0 && eq + 1 < record.size()) {
        index.properties["hamamatsu." + record.substr(0, eq)] = record.substr(eq + 1);
      }
      start = end + 2;
    }
  }
}

// OpenSlide's NDPI levels: each stored JPEG level (widest first), then its copies decoded at 1/2, 1/4 and
// 1/8 by libjpeg's DCT scaling where its tile (a restart interval, or the whole strip) divides evenly,
// sizes rounded down. Of two levels of one width the later in that order wins, as OpenSlide's table
// keyed by width keeps it: a stored level over a larger level's copy, then the copy of the smallest
// stored level. Where sizes rounded down leave a last column or row of tiles with no pixel (it held
// fewer than `denom`), the copy's tiles are the rest of the stored level's grid.
std::vector<ImageInfo> with_scaled_levels(std::vector<ImageInfo> stored) {
  std::stable_sort(stored.begin(), stored.end(),
                   [](const ImageInfo& a, const ImageInfo& b) { return a.width > b.width; });
  std::map<std::uint64_t, ImageInfo, std::greater<>> by_width;
  for (const ImageInfo& level : stored) {
    by_width.insert_or_assign(level.width, level);
    const bool scalable = level.compression == codec::compression::jpeg && level.unsupported_reason.empty() &&
                          (level.tiled || level.tile_offsets.size() == 1);
    if (!scalable) continue;
    for (const std::uint32_t denom : {2u, 4u, 8u}) {
      if (level.tile_width % denom != 0 || level.tile_height % denom != 0) continue;
      ImageInfo copy = level;
      copy.width = level.width / denom;
      copy.height = level.height / denom;
      copy.tile_width = level.tile_width / denom;
      copy.tile_height = level.tile_height / denom;
      copy.jpeg_scale_denom = denom;
      if (copy.width == 0 || copy.height == 0) continue;
      if (copy.tiles_across() != level.tiles_across() || copy.tiles_down() != level.tiles_down()) {
        copy.tile_offsets.clear();
        copy.tile_byte_counts.clear();
        for (std::uint32_t ty = 0; ty < copy.tiles_down(); ++ty) {
          for (std::uint32_t tx = 0; tx < copy.tiles_across(); ++tx) {
            copy.tile_offsets.push_back(level.tile_offsets[level.tile_number(tx, ty)]);
            copy.tile_byte_counts.push_back(level.tile_byte_counts[level.tile_number(tx, ty)]);
          }
        }
      }
      by_width.insert_or_assign(copy.width, std::move(copy));
    }
  }
  std::vector<ImageInfo> levels;
  for (auto& [width, level] : by_width) levels.push_back(std::move(level));
  return levels;
}

void classify_hamamatsu(const Walk& walk, SlideIndex& index) {
  const IfdReader& r = walk.reader;
  std::vector<ImageInfo> levels;
  std::size_t narrowest = 0;
  for (std::size_t i = 0; i < walk.images.size(); ++i) {
    if (walk.parent[i] != -1) continue;
    // SourceLens is a FLOAT in real files; real() reads any numeric type.
    const double lens = r.real(walk.ifds[i], tag::ndpi_source_lens).value_or(0);
    const double z = r.real(walk.ifds[i], tag::ndpi_z_offset).value_or(0);
    if (lens > 0 && z == 0) {
      if (levels.empty() || walk.images[i].width < walk.images[narrowest].width) narrowest = i;
      levels.push_back(by_restart_interval(r, walk.ifds[i], walk.images[i]));
    } else if (lens == -1 || lens == -2) {
      // One image per name: a second IFD claiming to be the macro (or map) is ignored, so that
      // `--associated macro` always means the first one.
      const char* name = lens == -1 ? "macro" : "map";
      const bool seen = std::any_of(index.associated.begin(), index.associated.end(),
                                    [&](const auto& a) { return a.name == name; });
      if (!seen) index.associated.push_back({name, walk.images[i]});
    }
  }
  if (levels.empty()) levels.push_back(walk.images.front());
  add_ndpi_properties(walk, index);
  add_quickhash(walk, narrowest, index);
  set_levels(index, with_scaled_levels(std::move(levels)));
}

}  // namespace

const VendorFormat hamamatsu_format{"hamamatsu", detect_hamamatsu, classify_hamamatsu};

}  // namespace tilestream::tiff::detail
