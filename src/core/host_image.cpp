// Allocation of host images with overflow and size checks.
#include "tilestream/core/host_image.hpp"

#include <limits>
#include <new>

#include "tilestream/core/error.hpp"

namespace tilestream {

HostImage::HostImage(std::uint64_t height, std::uint64_t width, std::uint32_t samples, DType dtype)
    : height_(height), width_(width), samples_(samples), dtype_(dtype) {
  constexpr std::uint64_t max_bytes = std::uint64_t{1} << 42;  // 4 TiB: anything above is a bad index
  const std::uint64_t pixel = samples * bytes_per_sample(dtype);
  check<UsageError>(samples > 0 && samples <= 16, "image with ", samples, " samples per pixel");
  check<UsageError>(width == 0 || height <= max_bytes / width / pixel,
                    "image of ", height, " x ", width, " x ", samples, " ", to_string(dtype),
                    " exceeds 4 TiB");
  const std::uint64_t total = height * width * pixel;
  try {
    data_.reset(new std::byte[total == 0 ? 1 : total]);
  } catch (const std::bad_alloc&) {
    throw UsageError(concat("cannot allocate ", total, " bytes for a ", height, " x ", width, " x ",
                            samples, " ", to_string(dtype), " image"));
  }
}

}  // namespace tilestream
