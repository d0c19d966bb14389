// Allocation of host images with overflow and available-memory checks.
#include "tilestream/core/host_image.hpp"

#include <limits>
#include <new>

#include "tilestream/core/error.hpp"
#include "tilestream/core/memory_budget.hpp"

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
  // Refuse what this process cannot have before asking the allocator: overcommit (or a sanitizer)
  // would otherwise turn a huge but valid request into an abort or an OOM kill instead of an error.
  // Callers that know the file check first, with its name (slide/region_reader.cpp); this is the
  // guard of every other image sized by the input.
  check_host_memory({.file = "",
                     .place = "",
                     .what = concat("a ", height, " x ", width, " x ", samples, " ", to_string(dtype), " image"),
                     .bytes = total,
                     .ways_out = {}});
  try {
    data_.reset(new std::byte[total == 0 ? 1 : total]);
  } catch (const std::bad_alloc&) {
    throw ResourceError(concat("cannot allocate ", byte_count_text(total), " for a ", height, " x ", width,
                               " x ", samples, " ", to_string(dtype), " image"));
  }
}

}  // namespace tilestream
