// The result of walking a file's IFDs, before vendor rules decide which images are levels.
#pragma once

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

// Shared by the formats: appends levels (sorted largest first, downsamples computed) and
// properties common to all TIFFs.
void set_levels(SlideIndex& index, std::vector<ImageInfo> levels);
void add_tiff_properties(const Walk& walk, SlideIndex& index);
// MPP from XResolution / ResolutionUnit in centimetres, when present.
void add_mpp_from_resolution(const Walk& walk, SlideIndex& index);
// True when `image` has the same sample layout as `base` and is strictly smaller.
bool is_reduced_copy(const ImageInfo& base, const ImageInfo& image);

}  // namespace tilestream::tiff::detail
