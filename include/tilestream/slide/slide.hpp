// A whole-slide image opened for reading: levels, properties, associated images, and regions
// decoded on a pool of CPU threads into host images.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tilestream/core/host_image.hpp"
#include "tilestream/io/file.hpp"
#include "tilestream/tiff/slide_index.hpp"

namespace tilestream::slide {

// Choices fixed when a slide is opened.
struct OpenOptions {
  // Read the samples as the file stores them (palette indices, MinIsWhite grey, CMYK...) instead of
  // the pixels the photometric conversion makes of them (codec/photometric.hpp).
  bool stored_samples = false;
  // What a set bit of a 1-bit image reads as: 1 (0/1, the default) or 255 (tiff::PixelOptions).
  unsigned bilevel_max = 1;
};

struct ReadOptions {
  unsigned threads = 0;  // 0: the default from settings (TILESTREAM_THREADS, else hardware concurrency)
};

class Slide {
 public:
  // Opens and indexes the file. Throws IoError / FormatError / UnsupportedError naming the file.
  // A path is a file (TIFF, BigTIFF, SVS, NDPI, or one file of a DICOM series: then the files of its
  // series in its folder) or a folder holding one DICOM series.
  static Slide open(const std::string& path, const OpenOptions& options = {});
  // The DICOM files of one series, exactly these (dicom::open_files); one path opens as above.
  static Slide open(const std::vector<std::string>& paths, const OpenOptions& options = {});
  // Wraps any byte source (memory, for fuzzing and tests).
  static Slide open(std::shared_ptr<const io::ByteSource> source, const OpenOptions& options = {});

  const tiff::SlideIndex& index() const { return *index_; }
  const std::string& path() const { return index_->path; }
  // The bytes behind the index, for readers that fetch raw tiles themselves (the device read path).
  const io::ByteSource& source() const { return *source_; }
  std::size_t level_count() const { return index_->levels.size(); }
  const tiff::Level& level(std::size_t n) const;
  // The level to read for a wanted downsample, as OpenSlide picks it: the smallest level whose
  // downsample does not exceed the wanted one (level 0 for anything at or below 1).
  std::size_t best_level_for_downsample(double downsample) const;
  const std::vector<tiff::AssociatedImage>& associated_images() const { return index_->associated; }
  const std::map<std::string, std::string>& properties() const { return index_->properties; }
  // Level 0's pixel width in micrometres (OpenSlide's "openslide.mpp-x"), when the file states it.
  std::optional<double> microns_per_pixel() const;

  // Pixels of the rectangle [x, x+width) x [y, y+height) of `level`, which must lie inside it.
  // Tiles are decoded in parallel; throws CodecError / IoError naming file, level, IFD, tile, offset.
  HostImage read_region(std::size_t level, std::uint64_t x, std::uint64_t y, std::uint64_t width,
                        std::uint64_t height, const ReadOptions& options = {}) const;
  HostImage read_level(std::size_t level, const ReadOptions& options = {}) const;
  HostImage read_associated(const std::string& name, const ReadOptions& options = {}) const;

 private:
  Slide(std::shared_ptr<const io::ByteSource> source, std::shared_ptr<const tiff::SlideIndex> index)
      : source_(std::move(source)), index_(std::move(index)) {}

  std::shared_ptr<const io::ByteSource> source_;
  std::shared_ptr<const tiff::SlideIndex> index_;
};

// Throws UsageError naming file and place when [x, x+width) x [y, y+height) is empty or not inside
// the image; every reader of regions (CPU or GPU) checks requests through it.
void check_region(const std::string& file, const std::string& place, const tiff::ImageInfo& image,
                  std::uint64_t x, std::uint64_t y, std::uint64_t width, std::uint64_t height);

// Reads a rectangle of any indexed image (level or associated) from `source`.
HostImage read_image_region(const io::ByteSource& source, const tiff::ImageInfo& image,
                            const std::string& place, std::uint64_t x, std::uint64_t y,
                            std::uint64_t width, std::uint64_t height, unsigned threads);

// A rectangle of an image and where its pixels go: `height` rows of width x samples pixels,
// `row_stride` bytes apart.
struct RegionTarget {
  std::uint64_t x = 0, y = 0, width = 0, height = 0;
  std::byte* data = nullptr;
  std::size_t row_stride = 0;
};

// Reads many rectangles of one image at once: every tile (or strip) that some rectangle touches is
// read and decoded once, on `threads` threads, and placed into each rectangle it overlaps (a batch of
// patches that share tiles decodes each shared tile once). Rectangles must lie inside the image
// (UsageError, as check_region) and may overlap each other; their targets must not overlap.
void read_image_regions_into(const io::ByteSource& source, const tiff::ImageInfo& image, const std::string& place,
                             std::span<const RegionTarget> regions, unsigned threads);

// The same into caller memory (pinned staging, for instance): `height` rows of width x samples
// pixels, `row_stride` bytes apart. UsageError when a row does not fit the stride.
void read_image_region_into(const io::ByteSource& source, const tiff::ImageInfo& image,
                            const std::string& place, std::uint64_t x, std::uint64_t y, std::uint64_t width,
                            std::uint64_t height, unsigned threads, std::byte* destination,
                            std::size_t row_stride);

}  // namespace tilestream::slide
