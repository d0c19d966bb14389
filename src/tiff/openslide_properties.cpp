// OpenSlide's properties as OpenSlide 4 computes them for TIFF-based slides: the tiff.* tags of the
// first IFD, openslide.comment, MPP from the resolution tags, the ICC profile size, quickhash-1,
// and the level and associated-image geometry, printed as OpenSlide prints numbers.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "tilestream/core/error.hpp"
#include "tilestream/core/sha256.hpp"
#include "tiff/tags.hpp"
#include "tiff/walk.hpp"

namespace tilestream::tiff {
namespace detail {
namespace {

// OpenSlide reads these as floating-point tags only: an integer XResolution gives no property.
std::optional<double> float_tag(const IfdReader& r, const Ifd& ifd, std::uint16_t t) {
  const Entry* e = ifd.find(t);
  if (e == nullptr || e->count == 0) return std::nullopt;
  if (e->type != 5 && e->type != 10 && e->type != 11 && e->type != 12) return std::nullopt;
  return r.real(ifd, t);
}

// ResolutionUnit as OpenSlide takes it: inch when absent or unreadable.
std::uint64_t resolution_unit(const IfdReader& r, const Ifd& ifd) {
  try {
    return r.uint(ifd, tag::resolution_unit).value_or(2);
  } catch (const FormatError&) {
    return 2;
  }
}

// The text tags OpenSlide stores and hashes, in its order.
constexpr std::pair<std::uint16_t, const char*> hashed_text_tags[] = {
    {tag::image_description, "tiff.ImageDescription"},
    {tag::make, "tiff.Make"},
    {tag::model, "tiff.Model"},
    {tag::software, "tiff.Software"},
    {tag::date_time, "tiff.DateTime"},
    {tag::artist, "tiff.Artist"},
    {tag::host_computer, "tiff.HostComputer"},
    {tag::copyright, "tiff.Copyright"},
    {tag::document_name, "tiff.DocumentName"},
};

// Hashes a string with its terminating NUL, as OpenSlide's _openslide_hash_string does.
void hash_string(Sha256& hash, const std::string& text) {
  hash.update(text);
  hash.update(std::string_view("\0", 1));
}

}  // namespace

void copy_double_property(SlideIndex& index, const std::string& from, const std::string& to) {
  const auto it = index.properties.find(from);
  if (it == index.properties.end()) return;
  if (const auto value = parse_openslide_double(it->second)) index.properties[to] = openslide_double(*value);
}

void add_tiff_properties(const Walk& walk, SlideIndex& index) {
  const IfdReader& r = walk.reader;
  const Ifd& ifd = walk.ifds.front();
  if (auto v = r.text(ifd, tag::image_description)) index.properties["openslide.comment"] = *v;
  for (const auto& [t, key] : hashed_text_tags)
    if (auto v = r.text(ifd, t)) index.properties[key] = *v;
  const std::pair<std::uint16_t, const char*> floats[] = {{tag::x_resolution, "tiff.XResolution"},
                                                          {tag::y_resolution, "tiff.YResolution"},
                                                          {tag::x_position, "tiff.XPosition"},
                                                          {tag::y_position, "tiff.YPosition"}};
  for (const auto& [t, key] : floats)
    if (auto v = float_tag(r, ifd, t)) index.properties[key] = openslide_double(*v);
  const std::uint64_t unit = resolution_unit(r, ifd);
  index.properties["tiff.ResolutionUnit"] = unit == 1 ? "none" : unit == 2 ? "inch" : unit == 3 ? "centimeter" : "unknown";
}

void add_mpp_from_resolution(const Walk& walk, std::size_t image, SlideIndex& index) {
  const IfdReader& r = walk.reader;
  const Ifd& ifd = walk.ifds[image];
  std::uint64_t unit = 2;
  if (ifd.find(tag::resolution_unit) != nullptr) {
    try {
      unit = *r.uint(ifd, tag::resolution_unit);
    } catch (const FormatError&) {
      return;  // OpenSlide sets no MPP from an unreadable unit
    }
  }
  const double micrometres = unit == 2 ? 25400 : unit == 3 ? 10000 : 0;
  if (micrometres == 0) return;
  const auto x = float_tag(r, ifd, tag::x_resolution), y = float_tag(r, ifd, tag::y_resolution);
  if (!x || !y || *x == 0 || *y == 0) return;
  index.properties["openslide.mpp-x"] = openslide_double(micrometres / *x);
  index.properties["openslide.mpp-y"] = openslide_double(micrometres / *y);
}

void add_icc_size(const Walk& walk, std::size_t image, const std::string& key, SlideIndex& index) {
  const Entry* e = walk.ifds[image].find(tag::icc_profile);
  if (e != nullptr && e->count > 0) index.properties[key] = std::to_string(e->count);
}

void add_quickhash(const Walk& walk, std::size_t lowest, SlideIndex& index) {
  const IfdReader& r = walk.reader;
  const Ifd& ifd = walk.ifds[lowest];
  // OpenSlide takes every value of the offset and count tags, tiles if there are any, else strips.
  const bool tiled = ifd.find(tag::tile_offsets) != nullptr && ifd.find(tag::tile_offsets)->count > 0;
  const Entry* offsets = ifd.find(tiled ? tag::tile_offsets : tag::strip_offsets);
  const Entry* counts = ifd.find(tiled ? tag::tile_byte_counts : tag::strip_byte_counts);
  check<FormatError>(offsets != nullptr && counts != nullptr && offsets->count > 0 && offsets->count == counts->count,
                     r.file(), ": ", ifd.label, ": cannot compute quickhash-1: the tile or strip counts are invalid");
  const std::vector<std::uint64_t> starts = r.uints(ifd, *offsets);
  const std::vector<std::uint64_t> lengths = r.uints(ifd, *counts);
  constexpr std::uint64_t max_hashed_bytes = 5u << 20;  // OpenSlide hashes no larger level (its #79)
  std::uint64_t total = 0;
  for (const std::uint64_t n : lengths) {
    total += n;
    if (total > max_hashed_bytes) return;
  }
  Sha256 hash;
  std::vector<std::byte> buffer;
  for (std::size_t i = 0; i < starts.size(); ++i) {
    if (lengths[i] == 0) continue;
    check<FormatError>(starts[i] <= r.file_size() && lengths[i] <= r.file_size() - starts[i], r.file(), ": ",
                       ifd.label, ": cannot compute quickhash-1: ", tiled ? "tile " : "strip ", i, " at offset ",
                       starts[i], " with ", lengths[i], " bytes extends past the end of the file");
    buffer.resize(lengths[i]);
    r.source().read_exact(starts[i], buffer);
    hash.update(buffer);
  }
  const Ifd& first = walk.ifds.front();
  for (const auto& [t, key] : hashed_text_tags) {
    hash_string(hash, key);
    hash_string(hash, r.text(first, t).value_or(""));
  }
  index.properties["openslide.quickhash-1"] = hash.hex_digest();
}

}  // namespace detail

std::string openslide_double(double value) {
  char text[64];
  const auto result = std::to_chars(text, text + sizeof text, value, std::chars_format::general, 17);
  return std::string(text, result.ptr);
}

std::optional<double> parse_openslide_double(const std::string& text) {
  std::string canonical = text;
  std::replace(canonical.begin(), canonical.end(), ',', '.');
  const char* first = canonical.data();
  const char* last = canonical.data() + canonical.size();
  while (first < last && std::isspace(static_cast<unsigned char>(*first))) ++first;  // strtod skips it
  if (first < last && *first == '+') ++first;
  double value = 0;
  const auto result = std::from_chars(first, last, value);
  if (canonical.empty() || result.ec != std::errc() || result.ptr != last) return std::nullopt;
  return value;
}

void add_layout_properties(SlideIndex& index) {
  index.properties["openslide.level-count"] = std::to_string(index.levels.size());
  for (std::size_t k = 0; k < index.levels.size(); ++k) {
    const ImageInfo& im = index.levels[k].image;
    const std::string prefix = concat("openslide.level[", k, "].");
    index.properties[prefix + "width"] = std::to_string(im.width);
    index.properties[prefix + "height"] = std::to_string(im.height);
    index.properties[prefix + "tile-width"] = std::to_string(im.tile_width);
    index.properties[prefix + "tile-height"] = std::to_string(im.tile_height);
    index.properties[prefix + "downsample"] = openslide_double(index.levels[k].downsample);
  }
  for (const AssociatedImage& a : index.associated) {
    const std::string prefix = concat("openslide.associated.", a.name, ".");
    index.properties[prefix + "width"] = std::to_string(a.image.width);
    index.properties[prefix + "height"] = std::to_string(a.image.height);
  }
}

}  // namespace tilestream::tiff
