// Aperio SVS: tiled pyramid levels, a stripped thumbnail as the second IFD, label (NewSubfileType 1)
// and macro (9) images, and "key = value" properties after the first '|' of level 0's description,
// all as OpenSlide's aperio format reads them.
#include <map>

#include "tiff/tags.hpp"
#include "tiff/walk.hpp"

namespace tilestream::tiff::detail {
namespace {

// Strips what g_strstrip strips (ASCII white space) from both ends.
std::string trim(const std::string& s) {
  constexpr const char* space = " \t\n\v\f\r";
  const auto first = s.find_first_not_of(space);
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(space);
  return s.substr(first, last - first + 1);
}

bool detect_aperio(const Walk& walk) {
  return walk.images.front().description.rfind("Aperio", 0) == 0;
}

// The "key = value" fields after the first '|'; fields without '=' are skipped, later keys win.
std::map<std::string, std::string> description_fields(const std::string& description) {
  std::map<std::string, std::string> fields;
  std::size_t start = description.find('|');
  while (start != std::string::npos) {
    const std::size_t end = description.find('|', start + 1);
    const std::string field = description.substr(start + 1, end == std::string::npos ? end : end - start - 1);
    if (const auto eq = field.find('='); eq != std::string::npos) {
      fields[trim(field.substr(0, eq))] = trim(field.substr(eq + 1));
    }
    start = end;
  }
  return fields;
}

void classify_aperio(const Walk& walk, SlideIndex& index) {
  const std::map<std::string, std::string> fields = description_fields(walk.images.front().description);
  for (const auto& [key, value] : fields) index.properties["aperio." + key] = value;
  copy_double_property(index, "aperio.AppMag", "openslide.objective-power");
  copy_double_property(index, "aperio.MPP", "openslide.mpp-x");
  copy_double_property(index, "aperio.MPP", "openslide.mpp-y");

  std::vector<ImageInfo> levels;
  std::size_t first_level = 0, last_level = 0;
  std::size_t directory = 0;  // position in the main IFD chain, as libtiff numbers directories
  for (std::size_t i = 0; i < walk.images.size(); ++i) {
    if (walk.parent[i] != -1) continue;
    const ImageInfo& im = walk.images[i];
    if (im.tiled) {
      if (levels.empty()) first_level = i;
      last_level = i;
      levels.push_back(im);
    } else if (directory == 1) {
      index.associated.push_back({"thumbnail", im});
      // The thumbnail shares level 0's ICC profile when both descriptions name the same one.
      const std::map<std::string, std::string> thumbnail_fields = description_fields(im.description);
      const auto thumbnail_icc = thumbnail_fields.find("ICC Profile");
      const auto level_icc = fields.find("ICC Profile");
      if (thumbnail_icc != thumbnail_fields.end() && level_icc != fields.end() &&
          thumbnail_icc->second == level_icc->second) {
        add_icc_size(walk, 0, "openslide.associated.thumbnail.icc-size", index);
      }
    } else if (im.subfile_type == 1) {
      index.associated.push_back({"label", im});
    } else if (im.subfile_type == 9) {
      index.associated.push_back({"macro", im});
    }
    ++directory;
  }
  if (!levels.empty()) {
    add_icc_size(walk, first_level, "openslide.icc-size", index);
    add_quickhash(walk, last_level, index);
  }
  set_levels(index, std::move(levels));
}

}  // namespace

const VendorFormat aperio_format{"aperio", detect_aperio, classify_aperio};

}  // namespace tilestream::tiff::detail
