// Allocation of host images with overflow and size checks.
#include "tilestream/core/host_image.hpp"

#include <unistd.h>

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
  // Refuse what the machine cannot hold before asking the allocator: overcommit (or a sanitizer)
  // would otherwise turn a huge but valid request into an abort or an OOM kill instead of an error.
  const std::uint64_t memory = static_cast<std::uint64_t>(::sysconf(_SC_PHYS_PAGES)) *
                               static_cast<std::uint64_t>(::sysconf(_SC_PAGE_SIZE));
  check<UsageError>(memory == 0 || total <= memory, "a ", height, " x ", width, " x ", samples, " ",
                    to_string(dtype), " image needs ", total, " bytes, more than this machine's memory (",
                    memory, " bytes); read a region instead");
  try {
    data_.reset(new std::byte[total == 0 ? 1 : total]);
  } catch (const std::bad_alloc&) {
    throw UsageError(concat("cannot allocate ", total, " bytes for a ", height, " x ", width, " x ",
                            samples, " ", to_string(dtype), " image"));
  }
}

}  // namespace tilestream
