// The device twin of slide/level0_region.hpp: a rectangle addressed as OpenSlide addresses it (level-0
// location floored to the level, size in level pixels), read into device memory by a DeviceReader,
// every pixel outside the level 0. For the Python API's read_region(device="cuda").
#pragma once

#include <cstddef>

#include "tilestream/cuda/device_image.hpp"
#include "tilestream/slide/device_reader.hpp"
#include "tilestream/slide/level0_region.hpp"

namespace tilestream::slide {

// A (rect.height, rect.width, samples) device image on the reader's device, finished when this returns
// (so any stream may read it); it frees on the device's legacy default stream. UsageError for an empty
// rectangle; the reader's errors otherwise (ResourceError before allocating what the device lacks).
cuda::DeviceImage read_level_rect_to_device(DeviceReader& reader, const Slide& slide, std::size_t level,
                                            const LevelRect& rect);

}  // namespace tilestream::slide
