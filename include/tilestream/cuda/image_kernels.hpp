// Device twins of two host operations that the Zarr write path needs: converting an image's samples
// to another dtype (core/cast.hpp) and cutting one Zarr block out of an image (what
// convert::assemble_block does on the host), both equal to their CPU twins byte for byte.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tilestream/core/dtype.hpp"
#include "tilestream/cuda/device_image.hpp"
#include "tilestream/cuda/stream.hpp"

namespace tilestream::cuda {

// A new image of `dtype` holding `image`'s samples converted as cast_samples does, allocated and
// filled on `stream`. UsageError for conversions core/cast.hpp does not offer.
DeviceImage cast(const DeviceImage& image, DType dtype, const Stream& stream);

// Where a block lies in the image and how it is laid out.
struct BlockBox {
  std::uint64_t y = 0, x = 0;            // the block's first pixel (inside the image)
  std::uint64_t height = 0, width = 0;   // the full block (it may reach past the image's edges)
  bool channels_first = false;           // (c, y, x) instead of (y, x, c)
};

// Queues on `stream` the copy of the block's pixels into `block` (device memory of
// height * width * samples samples, C order), zero (the fill value) where the block reaches past the
// image. UsageError for a block outside the image or empty.
void cut_block(const DeviceImage& image, const BlockBox& box, std::byte* block, const Stream& stream);

}  // namespace tilestream::cuda
