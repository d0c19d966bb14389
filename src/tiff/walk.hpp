// The result of walking a file's IFDs, before vendor rules decide which images are levels.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tiff/ifd_reader.hpp"

namespace tilestream::tiff::detail {

struct Walk {
  const IfdReader& reader;
  std::vector<Ifd> ifds;          // parallel to images
  std::vector<ImageInfo> images;  // every IFD in walk order
  std::vector<int> parent;        // index of the main-chain IFD a SubIFD hangs from, -1 for the chain
};

// One vendor format: `detect` looks at the walk, `classify` fills levels, associated images and
// vendor properties of the index. Formats are tried in table order; the generic one comes last.
struct VendorFormat {
  const char* name;
  bool (*detect)(const Walk& walk);
  void (*classify)(const Walk& walk, SlideIndex& index);
};

extern const VendorFormat aperio_format;
extern const VendorFormat hamamatsu_format;
extern const VendorFormat generic_format;

// True when `image` has the same sample layout as `base` and is strictly smaller.
bool is_reduced_copy(const ImageInfo& base, const ImageInfo& image);

// OpenSlide's properties, with OpenSlide's rules and spelling (src/tiff/openslide_properties.cpp).
// Sets property `to` to property `from` read and printed as a number, when it is one.
void copy_double_property(SlideIndex& index, const std::string& from, const std::string& to);
// openslide.comment and the tiff.* properties, from the first IFD.
void add_tiff_properties(const Walk& walk, SlideIndex& index);
// openslide.mpp-x / -y from the XResolution, YResolution and ResolutionUnit (inch or centimetre;
// inch when absent) of walk image `image`.
void add_mpp_from_resolution(const Walk& walk, std::size_t image, SlideIndex& index);
// openslide.icc-size: the bytes of walk image `image`'s ICC profile, when it has one.
void add_icc_size(const Walk& walk, std::size_t image, const std::string& key, SlideIndex& index);
// openslide.quickhash-1: SHA-256 over the stored tile (strip) bytes of walk image `lowest` (OpenSlide's
// lowest-resolution level) and the first IFD's text tags; absent, as in OpenSlide, when those tiles
// hold more than 5 MiB. Reads the tiles from the file.
void add_quickhash(const Walk& walk, std::size_t lowest, SlideIndex& index);

}  // namespace tilestream::tiff::detail
