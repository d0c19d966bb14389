// Slide: opening a file into an index, and level / associated-image reads on top of
// read_image_region.
#include "tilestream/slide/slide.hpp"

#include <cstdlib>

#include "tilestream/core/error.hpp"
#include "tilestream/dicom/series.hpp"

namespace tilestream::slide {

std::optional<double> Slide::microns_per_pixel() const {
  const auto found = properties().find("openslide.mpp-x");
  if (found == properties().end()) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(found->second.c_str(), &end);
  if (end == found->second.c_str() || !(value > 0)) return std::nullopt;
  return value;
}

namespace {

tiff::PixelOptions pixel_options(const std::string& name, const OpenOptions& options) {
  tiff::PixelOptions pixels;
  pixels.stored_samples = options.stored_samples;
  check<UsageError>(options.bilevel_max == 1 || options.bilevel_max == 255, name, ": ", option("bilevel_max"),
                    " must be 1 or 255, not ", options.bilevel_max);
  pixels.bilevel_max = static_cast<std::uint8_t>(options.bilevel_max);
  return pixels;
}

}  // namespace

Slide Slide::open(const std::string& path, const OpenOptions& options) {
  if (dicom::is_dicom_path(path)) {
    dicom::OpenedSeries series = dicom::open_series(path, pixel_options(path, options));
    return Slide(std::move(series.source), std::make_shared<const tiff::SlideIndex>(std::move(series.index)));
  }
  return open(std::make_shared<io::ReadFile>(path), options);
}

Slide Slide::open(const std::vector<std::string>& paths, const OpenOptions& options) {
  check<UsageError>(!paths.empty(), "open: no file given");
  if (paths.size() == 1) return open(paths.front(), options);
  dicom::OpenedSeries series = dicom::open_files(paths, pixel_options(paths.front(), options));
  return Slide(std::move(series.source), std::make_shared<const tiff::SlideIndex>(std::move(series.index)));
}

Slide Slide::open(std::shared_ptr<const io::ByteSource> source, const OpenOptions& options) {
  const tiff::PixelOptions pixels = pixel_options(source->name(), options);
  if (dicom::is_dicom(*source)) {  // one DICOM file (bytes in memory: the fuzzer's)
    auto index = std::make_shared<const tiff::SlideIndex>(dicom::index_series({source.get()}, source->name(), pixels));
    return Slide(std::move(source), std::move(index));
  }
  auto index = std::make_shared<const tiff::SlideIndex>(tiff::parse_slide_index(*source, {}, pixels));
  return Slide(std::move(source), std::move(index));
}

const tiff::Level& Slide::level(std::size_t n) const {
  check<UsageError>(n < index_->levels.size(), index_->path, ": level ", n, " does not exist (the slide has ",
                    index_->levels.size(), index_->levels.size() == 1 ? " level)" : " levels)");
  return index_->levels[n];
}

std::size_t Slide::best_level_for_downsample(double downsample) const {
  std::size_t best = 0;
  for (std::size_t k = 1; k < index_->levels.size(); ++k) {
    // A hair of tolerance: stored pyramids round sizes, so "2x" may be 2.0003.
    if (index_->levels[k].downsample <= downsample * (1 + 1e-6) + 1e-9) best = k;
  }
  return best;
}

HostImage Slide::read_region(std::size_t level_number, std::uint64_t x, std::uint64_t y,
                             std::uint64_t width, std::uint64_t height, const ReadOptions& options) const {
  const tiff::Level& lv = level(level_number);
  return read_image_region(*source_, lv.image, concat("level ", level_number), x, y, width, height,
                           options.threads);
}

HostImage Slide::read_level(std::size_t level_number, const ReadOptions& options) const {
  const tiff::Level& lv = level(level_number);
  return read_region(level_number, 0, 0, lv.image.width, lv.image.height, options);
}

HostImage Slide::read_associated(const std::string& name, const ReadOptions& options) const {
  for (const tiff::AssociatedImage& a : index_->associated) {
    if (a.name == name) {
      return read_image_region(*source_, a.image, "associated image '" + name + "'", 0, 0,
                               a.image.width, a.image.height, options.threads);
    }
  }
  std::string names;
  for (const tiff::AssociatedImage& a : index_->associated) names += (names.empty() ? "" : ", ") + a.name;
  throw UsageError(concat(index_->path, ": no associated image '", name, "' (the slide has: ",
                          names.empty() ? "none" : names, ")"));
}

}  // namespace tilestream::slide
