// Helpers shared by the vendor formats: level ordering, downsamples and TIFF properties.
#include <algorithm>
#include <cmath>

#include "tilestream/core/error.hpp"
#include "tiff/tags.hpp"
#include "tiff/walk.hpp"

namespace tilestream::tiff::detail {

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

void add_tiff_properties(const Walk& walk, SlideIndex& index) {
  const IfdReader& r = walk.reader;
  const Ifd& ifd = walk.ifds.front();
  const std::pair<std::uint16_t, const char*> texts[] = {
      {tag::image_description, "tiff.ImageDescription"}, {tag::make, "tiff.Make"},
      {tag::model, "tiff.Model"}, {tag::software, "tiff.Software"}, {tag::date_time, "tiff.DateTime"}};
  for (const auto& [t, key] : texts)
    if (auto v = r.text(ifd, t)) index.properties[key] = *v;
  if (auto v = r.real(ifd, tag::x_resolution)) index.properties["tiff.XResolution"] = concat(*v);
  if (auto v = r.real(ifd, tag::y_resolution)) index.properties["tiff.YResolution"] = concat(*v);
  if (auto v = r.uint(ifd, tag::resolution_unit)) {
    index.properties["tiff.ResolutionUnit"] = *v == 2 ? "inch" : *v == 3 ? "centimeter" : "none";
  }
}

void add_mpp_from_resolution(const Walk& walk, SlideIndex& index) {
  const IfdReader& r = walk.reader;
  const Ifd& ifd = walk.ifds.front();
  if (r.uint(ifd, tag::resolution_unit).value_or(2) != 3) return;  // only centimetres are trusted
  const auto x = r.real(ifd, tag::x_resolution), y = r.real(ifd, tag::y_resolution);
  if (x && *x > 0 && std::isfinite(*x)) index.properties["openslide.mpp-x"] = concat(10000.0 / *x);
  if (y && *y > 0 && std::isfinite(*y)) index.properties["openslide.mpp-y"] = concat(10000.0 / *y);
}

bool is_reduced_copy(const ImageInfo& base, const ImageInfo& image) {
  return image.samples == base.samples && image.bits_per_sample == base.bits_per_sample &&
         image.width < base.width && image.height < base.height;
}

}  // namespace tilestream::tiff::detail
