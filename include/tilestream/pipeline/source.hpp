// Where a dataset's pixels come from: a stored slide level, or an array the same run wrote before it
// (a pyramid level built from the one above). Backends read boxes of it; one with its own reader of
// slide tiles (the device backend) asks for the slide level behind it.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "tilestream/core/host_image.hpp"
#include "tilestream/ops/op.hpp"
#include "tilestream/pipeline/plan.hpp"
#include "tilestream/slide/slide.hpp"
#include "tilestream/zarr/array.hpp"

namespace tilestream::pipeline {

class Source {
 public:
  virtual ~Source() = default;
  virtual ops::ImageShape shape() const = 0;
  // Bytes of one stored tile or block decoded: what reading any box holds besides the box.
  virtual std::size_t tile_bytes() const = 0;
  // The pixels of `box` (inside shape()), interleaved (y, x, c), decoded on `threads` threads.
  // Thread-safe.
  virtual HostImage read(const ops::Box& box, unsigned threads) const = 0;
  // The slide and level behind it, or null for an array source.
  virtual const slide::Slide* slide() const { return nullptr; }
  virtual std::size_t level() const { return 0; }
  // For messages: "slide.svs level 1", "store.zarr/2".
  virtual std::string name() const = 0;
};

// Level `level` of `slide`; UsageError when it does not exist or cannot be decoded.
std::unique_ptr<Source> slide_level_source(const slide::Slide& slide, std::size_t level);

// The array `reader` reads, laid out as `layout` (it has 3 axes: y, x and c in that layout's order).
std::unique_ptr<Source> array_source(const zarr::ArrayReader& reader, Layout layout, std::string name);

}  // namespace tilestream::pipeline
