// Pixels of one dataset, and the Zarr blocks (chunks or shards) cut from them: the only place that
// knows where a dataset's pixels come from (a slide level, or 2x downsampling of the dataset before
// it read back from the store) and how a block is laid out (padding, (c, y, x) transpose).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "tilestream/convert/convert.hpp"
#include "tilestream/slide/slide.hpp"
#include "tilestream/zarr/array.hpp"

namespace tilestream::convert {

// A rectangle source of one dataset's pixels, interleaved (y, x, samples). Thread-safe.
class RegionSource {
 public:
  virtual ~RegionSource() = default;
  virtual std::uint64_t width() const = 0;
  virtual std::uint64_t height() const = 0;
  virtual std::uint32_t samples() const = 0;
  virtual DType dtype() const = 0;
  // Fills `out` (h * w * samples samples) with [x, x+w) x [y, y+h), which lies inside the dataset.
  virtual void read(std::uint64_t x, std::uint64_t y, std::uint64_t w, std::uint64_t h,
                    std::span<std::byte> out) const = 0;
};

// A stored slide level, decoded on the calling thread (parallelism is across blocks).
std::unique_ptr<RegionSource> slide_level_source(const slide::Slide& slide, std::size_t level);

// `source` with its samples converted to `dtype` (core/cast.hpp); `source` itself when it already
// has that dtype. UsageError for conversions that are not exact.
std::unique_ptr<RegionSource> cast_source(std::unique_ptr<RegionSource> source, DType dtype);

// The 2x area mean (the downsample2x op) of an array already in the store, written with
// `layout`; a rectangle of the result reads the 2x rectangle of `previous` (clipped to it).
std::unique_ptr<RegionSource> downsampled_source(const zarr::ArrayReader& previous, Layout layout);

// An in-memory interleaved image (tests).
std::unique_ptr<RegionSource> memory_source(std::vector<std::byte> pixels, std::uint64_t width,
                                            std::uint64_t height, std::uint32_t samples, DType dtype);

// Block (by, bx) of the dataset as the C-order bytes of spec.block_shape(): the block's rectangle
// clipped to the image, fill_value (0) elsewhere, in (y, x, c) or (c, y, x) order by `layout`. The
// source is read in bands of `band_rows` rows (0: the whole block at once), so that at most one band
// is held besides the block.
std::vector<std::byte> assemble_block(const RegionSource& source, const zarr::ArraySpec& spec, Layout layout,
                                      std::uint64_t block_y, std::uint64_t block_x,
                                      std::uint64_t band_rows = 0);

}  // namespace tilestream::convert
