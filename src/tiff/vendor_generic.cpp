// Generic pyramidal TIFF (libvips, tifffile, bfconvert, OME-TIFF): level 0 is the first IFD; the
// pyramid is either its SubIFDs or the later reduced-resolution IFDs of the main chain.
#include <algorithm>
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

// openslide.bounds-*: the tiles that are stored (byte count above 0) of `base`, when some are not.
void add_bounds(const ImageInfo& base, SlideIndex& index) {
  const std::uint32_t across = base.tiles_across(), down = base.tiles_down();
  std::uint32_t min_col = across, min_row = down, max_col = 0, max_row = 0;
  for (std::uint32_t row = 0; row < down; ++row) {
    for (std::uint32_t col = 0; col < across; ++col) {
      if (base.tile_byte_counts[base.tile_number(col, row)] == 0) continue;
      min_col = std::min(min_col, col);
      min_row = std::min(min_row, row);
      max_col = std::max(max_col, col);
      max_row = std::max(max_row, row);
    }
  }
  if (min_col == across) return;  // no tile stored at all: OpenSlide reports no bounds either
  const std::uint64_t x = std::uint64_t{min_col} * base.tile_width, y = std::uint64_t{min_row} * base.tile_height;
  const std::uint64_t w = std::min<std::uint64_t>(std::uint64_t{max_col + 1 - min_col} * base.tile_width, base.width - x);
  const std::uint64_t h = std::min<std::uint64_t>(std::uint64_t{max_row + 1 - min_row} * base.tile_height, base.height - y);
  if (x == 0 && y == 0 && w == base.width && h == base.height) return;
  index.properties["openslide.bounds-x"] = std::to_string(x);
  index.properties["openslide.bounds-y"] = std::to_string(y);
  index.properties["openslide.bounds-width"] = std::to_string(w);
  index.properties["openslide.bounds-height"] = std::to_string(h);
}

// OpenSlide's generic-tiff levels are the tiled IFDs of the main chain that are the first or marked
// reduced-resolution; its quickhash hashes the narrowest, its ICC size and bounds come from the widest.
// Files OpenSlide does not open (a stripped first IFD) get the same properties from our own levels.
void add_openslide_generic_properties(const Walk& walk, SlideIndex& index, const std::vector<ImageInfo>& ours) {
  index.properties["openslide.vendor"] = "generic-tiff";
  std::vector<std::size_t> theirs;
  if (walk.images.front().tiled) {
    for (std::size_t i = 0; i < walk.images.size(); ++i) {
      const ImageInfo& im = walk.images[i];
      if (walk.parent[i] == -1 && im.tiled && (i == 0 || im.reduced_resolution())) theirs.push_back(i);
    }
  } else {
    for (const ImageInfo& im : ours) theirs.push_back(im.ifd_number);
  }
  std::size_t widest = theirs.front(), narrowest = theirs.front();
  for (const std::size_t i : theirs) {
    if (walk.images[i].width > walk.images[widest].width) widest = i;
    if (walk.images[i].width <= walk.images[narrowest].width) narrowest = i;  // the last of equals, as a stable sort leaves it
  }
  add_mpp_from_resolution(walk, 0, index);
  add_quickhash(walk, narrowest, index);
  add_icc_size(walk, widest, "openslide.icc-size", index);
  if (walk.images[widest].tiled) add_bounds(walk.images[widest], index);
}

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
  // Our vendor name tells OME-TIFF apart; OpenSlide's property keeps its own name for the format.
  index.vendor = walk.images.front().description.find("<OME") != std::string::npos ? "ome" : "generic-tiff";
  add_openslide_generic_properties(walk, index, levels);
  set_levels(index, std::move(levels));
}

}  // namespace

const VendorFormat generic_format{"generic-tiff", detect_generic, classify_generic};

}  // namespace tilestream::tiff::detail
