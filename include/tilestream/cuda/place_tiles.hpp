// Placing raw tiles held in device memory into a device image: the CUDA twin of
// tilestream/slide/place_tiles.hpp, equal to it byte for byte.
#pragma once

#include <cstddef>
#include <span>

#include "tilestream/cuda/device_image.hpp"
#include "tilestream/cuda/memory.hpp"
#include "tilestream/cuda/stream.hpp"
#include "tilestream/slide/place_tiles.hpp"

namespace tilestream::cuda {

// Queues on `stream` the copy of every slot's tile overlap into `out` (region_height rows of
// region_width x samples, rows `out_row_stride` bytes apart), as slide::place_tiles does on the host.
// `tiles` holds slots.size() tiles back to back. Arguments are checked on the host first (UsageError);
// the slot table is uploaded from `slots` before this returns, so it may be freed afterwards.
void place_tiles(const DeviceBuffer& tiles, std::span<const slide::TileSlot> slots,
                 const slide::PlaceGeometry& geometry, std::byte* out, std::size_t out_row_stride,
                 const Stream& stream);

// The same into a device image, whose shape and dtype must be the region's (UsageError otherwise).
void place_tiles(const DeviceBuffer& tiles, std::span<const slide::TileSlot> slots,
                 const slide::PlaceGeometry& geometry, DeviceImage& out, const Stream& stream);

}  // namespace tilestream::cuda
