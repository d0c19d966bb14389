// Helpers shared by the vendor formats: level ordering and downsamples.
#include <algorithm>

#include "tilestream/core/error.hpp"
#include "tiff/walk.hpp"

namespace tilestream::tiff {

void set_levels(SlideIndex& index, std::vector<ImageInfo> levels) {
  std::stable_sort(levels.begin(), levels.end(),
                   [](const ImageInfo& a, const ImageInfo& b) { return a.width > b.width; });
  index.levels.clear();
  for (ImageInfo& im : levels) {
    Level level;
    // The mean of both axes' ratios, as OpenSlide computes it, so downsamples agree with it.
    const ImageInfo& base = index.levels.empty() ? im : index.levels.front().image;
    level.downsample = (static_cast<double>(base.width) / static_cast<double>(im.width) +
                        static_cast<double>(base.height) / static_cast<double>(im.height)) / 2.0;
    level.image = std::move(im);
    index.levels.push_back(std::move(level));
  }
}

namespace detail {

bool is_reduced_copy(const ImageInfo& base, const ImageInfo& image) {
  return image.samples == base.samples && image.bits_per_sample == base.bits_per_sample &&
         image.width < base.width && image.height < base.height;
}

}  // namespace detail
}  // namespace tilestream::tiff
