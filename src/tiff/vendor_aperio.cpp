// Aperio SVS: tiled pyramid levels, a stripped thumbnail as the second IFD, label and macro images
// named in their ImageDescription, and "key = value" properties after the first '|' of level 0's.
#include <cstdlib>

#include "tiff/walk.hpp"

namespace tilestream::tiff::detail {
namespace {

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

bool detect_aperio(const Walk& walk) {
  return walk.images.front().description.rfind("Aperio", 0) == 0;
}

void add_aperio_properties(const std::string& description, SlideIndex& index) {
  std::size_t start = description.find('|');
  while (start != std::string::npos) {
    const std::size_t end = description.find('|', start + 1);
    const std::string field = description.substr(start + 1, end == std::string::npos ? end : end - start - 1);
    if (const auto eq = field.find('='); eq != std::string::npos) {
      const std::string key = trim(field.substr(0, eq));
      if (!key.empty()) index.properties["aperio." + key] = trim(field.substr(eq + 1));
    }
    start = end;
  }
  const auto mpp = index.properties.find("aperio.MPP");
  if (mpp != index.properties.end() && std::strtod(mpp->second.c_str(), nullptr) > 0) {
    index.properties["openslide.mpp-x"] = mpp->second;
    index.properties["openslide.mpp-y"] = mpp->second;
  }
  const auto mag = index.properties.find("aperio.AppMag");
  if (mag != index.properties.end()) index.properties["openslide.objective-power"] = mag->second;
}

void classify_aperio(const Walk& walk, SlideIndex& index) {
  std::vector<ImageInfo> levels;
  for (std::size_t i = 0; i < walk.images.size(); ++i) {
    if (walk.parent[i] != -1) continue;
    const ImageInfo& im = walk.images[i];
    if (im.tiled) {
      levels.push_back(im);
    } else if (im.description.find("label") != std::string::npos) {
      index.associated.push_back({"label", im});
    } else if (im.description.find("macro") != std::string::npos) {
      index.associated.push_back({"macro", im});
    } else if (i == 1) {
      index.associated.push_back({"thumbnail", im});
    }
  }
  add_aperio_properties(walk.images.front().description, index);
  set_levels(index, std::move(levels));
}

}  // namespace

const VendorFormat aperio_format{"aperio", detect_aperio, classify_aperio};

}  // namespace tilestream::tiff::detail
