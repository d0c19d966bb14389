// Reading a slide region straight into device memory. Two paths, and the report says which ran:
//  - "posix+pinned, raw tiles placed on GPU": uncompressed, interleaved, native-order tiles are read
//    with the posix io backend into pooled pinned staging buffers, copied batch by batch on several
//    streams (reads of the next batch overlap the copy of this one) and placed by the place_tiles kernel;
//  - "CPU decode + upload": anything else (compressed, predictor, big-endian 16-bit, strips, planar,
//    sparse tiles) is decoded on CPU threads by Slide::read_region and uploaded through pinned memory.
// Both give the CPU path's pixels byte for byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "tilestream/cuda/device_image.hpp"
#include "tilestream/slide/slide.hpp"

namespace tilestream::cuda {

struct DeviceReadOptions {
  unsigned threads = 0;                          // read/decode threads; 0: the default from settings
  int device = 0;                                // the CUDA device the image lands on
  std::size_t staging_bytes = 64u << 20;         // one pinned staging buffer (rounded up to whole tiles)
  unsigned streams = 3;                          // copy streams, each with its own staging buffer
};

struct DeviceReadReport {
  std::string path;                // which path ran (see above)
  std::uint64_t bytes_read = 0;    // bytes read from the file (raw path) or decoded pixels (CPU path)
  double seconds = 0;              // wall time, pixels finished on the device
};

inline constexpr const char* raw_tiles_path = "posix+pinned, raw tiles placed on GPU";
inline constexpr const char* cpu_decode_path = "CPU decode + upload";

// Whether `image` qualifies for the raw-tile path at all (the region may still fall back when one of
// its tiles is sparse or short).
bool raw_tiles_possible(const tiff::ImageInfo& image);

// The rectangle [x, x+width) x [y, y+height) of `level` as a (height, width, samples) device image on
// options.device. Same errors as Slide::read_region (UsageError for regions outside the level), plus
// CudaError. The returned image frees on the device's legacy default stream, so it outlives the
// streams used here. `report`, when given, is filled in.
DeviceImage read_region_to_device(const slide::Slide& slide, std::size_t level, std::uint64_t x,
                                  std::uint64_t y, std::uint64_t width, std::uint64_t height,
                                  const DeviceReadOptions& options = {}, DeviceReadReport* report = nullptr);

}  // namespace tilestream::cuda
