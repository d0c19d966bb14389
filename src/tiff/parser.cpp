// parse_slide_index: walks the IFD chain and SubIFDs, then lets the first matching vendor format
// sort the images into levels and associated images.
#include <array>
#include <unordered_set>

#include "tilestream/core/error.hpp"
#include "tiff/image_info.hpp"
#include "tiff/tags.hpp"
#include "tiff/walk.hpp"

namespace tilestream::tiff {
namespace {

using detail::Ifd;

void walk_ifds(detail::Walk& walk, const ParseLimits& limits, const PixelOptions& pixels) {
  const detail::IfdReader& reader = walk.reader;
  std::unordered_set<std::uint64_t> seen;
  auto add = [&](std::uint64_t offset, std::string label, int parent) {
    check<FormatError>(walk.ifds.size() < limits.max_ifds, reader.file(), ": more than ",
                       limits.max_ifds, " IFDs");
    check<FormatError>(seen.insert(offset).second, reader.file(), ": ", label, " at offset ", offset,
                       " was already read: the IFD chain loops");
    Ifd ifd = reader.read_ifd(offset, std::move(label));
    const auto number = static_cast<std::uint32_t>(walk.ifds.size());
    walk.images.push_back(detail::build_image_info(reader, ifd, number, limits, pixels));
    walk.ifds.push_back(std::move(ifd));
    walk.parent.push_back(parent);
    return walk.ifds.size() - 1;
  };

  std::uint64_t offset = reader.header().first_ifd;
  for (std::uint32_t n = 0; offset != 0; ++n) {
    const std::size_t at = add(offset, concat("IFD ", n), -1);
    if (const detail::Entry* e = walk.ifds[at].find(tag::sub_ifds)) {
      const std::vector<std::uint64_t> children = reader.uints(walk.ifds[at], *e);
      for (std::size_t k = 0; k < children.size(); ++k)
        add(children[k], concat("IFD ", n, " / SubIFD ", k), static_cast<int>(at));
    }
    offset = walk.ifds[at].next;
  }
}

}  // namespace

SlideIndex parse_slide_index(const io::ByteSource& source, const ParseLimits& limits, const PixelOptions& pixels) {
  detail::IfdReader reader(source, limits);
  detail::Walk walk{reader, {}, {}, {}};
  walk_ifds(walk, limits, pixels);

  SlideIndex index;
  index.path = source.name();
  index.file_size = source.size();
  index.big_tiff = reader.header().big_tiff;
  index.format = index.big_tiff ? "BigTIFF" : "TIFF";
  index.big_endian = reader.header().big_endian;
  index.stored_samples = pixels.stored_samples;
  static constexpr std::array formats = {&detail::aperio_format, &detail::hamamatsu_format,
                                         &detail::generic_format};
  for (const detail::VendorFormat* format : formats) {
    if (!format->detect(walk)) continue;
    index.vendor = format->name;
    index.properties["openslide.vendor"] = format->name;
    detail::add_tiff_properties(walk, index);
    format->classify(walk, index);
    break;
  }
  check<FormatError>(!index.levels.empty(), source.name(), ": no image in the file can serve as level 0");
  index.images = std::move(walk.images);
  add_layout_properties(index);
  return index;
}

codec::StoredPixels ImageInfo::stored_pixels() const {
  codec::StoredPixels stored;
  stored.photometric = photometric;
  stored.compression = compression;
  stored.samples = stored_samples;
  stored.dtype = stored_dtype;
  stored.planar_config = planar_config;
  if (bits_per_sample == 1) stored.bilevel_max = bilevel_max;
  return stored;
}

void ImageInfo::check_readable(const std::string& context) const {
  if (unsupported_reason.empty()) return;
  if (malformed) throw FormatError(concat(unsupported_reason, " (", context, ")"));
  throw UnsupportedError(concat(unsupported_reason, " (", context, ")"));
}

std::uint32_t ImageInfo::stored_rows(std::uint32_t ty) const {
  if (tiled) return tile_height;
  const std::uint64_t first = std::uint64_t{ty} * tile_height;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(tile_height, height - first));
}

}  // namespace tilestream::tiff
