// Placing raw tiles held in device memory into a device image: the CUDA twin of
// tilestream/slide/place_tiles.hpp, equal to it byte for byte. Built with CUDA only.
#pragma once

#include <cstddef>
#include <span>

#include "tilestream/cuda/device_image.hpp"
#include "tilestream/cuda/memory.hpp"
#include "tilestream/cuda/stream.hpp"
#include "tilestream/slide/place_tiles.hpp"

namespace tilestream::slide {

// Queues on `stream` the copy of every slot's tile overlap into `out` (region_height rows of
// region_width x samples, rows `out_row_stride` bytes apart), as the host place_tiles does.
// `tiles` holds slots.size() tiles back to back. Arguments are checked on the host first (UsageError);
// the slot table is uploaded from `slots` before this returns, so it may be freed afterwards.
void place_tiles(const cuda::DeviceBuffer& tiles, std::span<const TileSlot> slots, const PlaceGeometry& geometry,
                 std::byte* out, std::size_t out_row_stride, const cuda::Stream& stream);

// The same into a device image, whose shape and dtype must be the region's (UsageError otherwise).
void place_tiles(const cuda::DeviceBuffer& tiles, std::span<const TileSlot> slots, const PlaceGeometry& geometry,
                 cuda::DeviceImage& out, const cuda::Stream& stream);

}  // namespace tilestream::slide
