// Generic pyramidal TIFF (libvips, tifffile, bfconvert, OME-TIFF): level 0 is the first IFD; the
// pyramid is either its SubIFDs or the later reduced-resolution IFDs of the main chain.
#include <cctype>

#include "tiff/walk.hpp"

namespace tilestream::tiff::detail {
namespace {

bool mentions(const std::string& text, const char* word) {
  std::string lower = text;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find(word) != std::string::npos;
}

bool detect_generic(const Walk&) { return true; }

void classify_generic(const Walk& walk, SlideIndex& index) {
  const ImageInfo& base = walk.images.front();
  std::vector<ImageInfo> levels{base};
  bool has_sub_levels = false;
  for (std::size_t i = 1; i < walk.images.size(); ++i) {
    if (walk.parent[i] == 0 && is_reduced_copy(base, walk.images[i])) {
      levels.push_back(walk.images[i]);
      has_sub_levels = true;
    }
  }
  for (std::size_t i = 1; i < walk.images.size(); ++i) {
    if (walk.parent[i] != -1) continue;
    const ImageInfo& im = walk.images[i];
    const std::string& d = im.description;
    if (mentions(d, "label")) {
      index.associated.push_back({"label", im});
    } else if (mentions(d, "macro")) {
      index.associated.push_back({"macro", im});
    } else if (mentions(d, "thumbnail")) {
      index.associated.push_back({"thumbnail", im});
    } else if (!has_sub_levels && im.reduced_resolution() && is_reduced_copy(levels.back(), im)) {
      levels.push_back(im);
    }
  }
  index.vendor = walk.images.front().description.find("<OME") != std::string::npos ? "ome" : "generic-tiff";
  index.properties["openslide.vendor"] = index.vendor;
  add_mpp_from_resolution(walk, index);
  set_levels(index, std::move(levels));
}

}  // namespace

const VendorFormat generic_format{"generic-tiff", detect_generic, classify_generic};

}  // namespace tilestream::tiff::detail
