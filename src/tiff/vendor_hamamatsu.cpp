// Hamamatsu NDPI: a TIFF whose IFDs carry vendor tags; SourceLens > 0 marks pyramid levels (at
// focal plane ZOffset 0), -1 the macro image and -2 the map.
#include <algorithm>

#include "tilestream/core/error.hpp"
#include "tiff/tags.hpp"
#include "tiff/walk.hpp"

namespace tilestream::tiff::detail {
namespace {

bool detect_hamamatsu(const Walk& walk) {
  return walk.ifds.front().find(tag::ndpi_format_flag) != nullptr;
}

void classify_hamamatsu(const Walk& walk, SlideIndex& index) {
  const IfdReader& r = walk.reader;
  std::vector<ImageInfo> levels;
  for (std::size_t i = 0; i < walk.images.size(); ++i) {
    if (walk.parent[i] != -1) continue;
    // SourceLens is a FLOAT in real files; real() reads any numeric type.
    const double lens = r.real(walk.ifds[i], tag::ndpi_source_lens).value_or(0);
    const double z = r.real(walk.ifds[i], tag::ndpi_z_offset).value_or(0);
    if (lens > 0 && z == 0) {
      levels.push_back(walk.images[i]);
      if (levels.size() == 1) index.properties["openslide.objective-power"] = concat(lens);
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
  add_mpp_from_resolution(walk, index);
  set_levels(index, std::move(levels));
}

}  // namespace

const VendorFormat hamamatsu_format{"hamamatsu", detect_hamamatsu, classify_hamamatsu};

}  // namespace tilestream::tiff::detail
