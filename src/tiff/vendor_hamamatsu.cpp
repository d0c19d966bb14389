// Hamamatsu NDPI: a TIFF whose IFDs carry vendor tags; SourceLens > 0 marks pyramid levels (at
// focal plane ZOffset 0), -1 the macro image and -2 the map. Properties as OpenSlide's NDPI format
// gives them: hamamatsu.* from the first IFD's vendor tags and its "key=value" property map.
#include <algorithm>

#include "tilestream/core/error.hpp"
#include "tiff/tags.hpp"
#include "tiff/walk.hpp"

namespace tilestream::tiff::detail {
namespace {

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
      levels.push_back(walk.images[i]);
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
  set_levels(index, std::move(levels));
}

}  // namespace

const VendorFormat hamamatsu_format{"hamamatsu", detect_hamamatsu, classify_hamamatsu};

}  // namespace tilestream::tiff::detail
