// Allocation of host images with overflow and available-memory checks.
#include "tilestream/core/host_image.hpp"

#include <algorithm>
#include <limits>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#include "tilestream/core/error.hpp"
#include "tilestream/core/memory_budget.hpp"

namespace tilestream {
namespace {

class BufferRecycler {
 public:
  static constexpr std::size_t smallest = std::size_t{4} << 20;
  static constexpr std::size_t largest = std::size_t{512} << 20;
  static constexpr std::size_t most_bytes = std::size_t{1} << 30;
  static constexpr std::size_t most_buffers = 8;

  BufferRecycler() { kept_.reserve(most_buffers); }  // keep() never allocates under its lock

  // Leaked: images freed during static destruction still find it.
  static BufferRecycler& instance() {
    static BufferRecycler* recycler = new BufferRecycler;
    return *recycler;
  }

  // A kept buffer of exactly `bytes`, or nullptr.
  std::byte* take(std::size_t bytes) {
    if (bytes < smallest || bytes > largest) return nullptr;
    const std::lock_guard lock(mutex_);
    for (auto it = kept_.rbegin(); it != kept_.rend(); ++it) {
      if (it->first != bytes) continue;
      std::byte* p = it->second;
      kept_.erase(std::next(it).base());
      kept_bytes_ -= bytes;
      return p;
    }
    return nullptr;
  }

  // Keeps `p` (of `bytes`) for a later take, freeing the oldest kept buffers to make room; false when
  // it is not kept (the caller frees it).
  bool keep(std::byte* p, std::size_t bytes) {
    if (bytes < smallest || bytes > largest) return false;
    std::vector<std::byte*> freed;
    {
      const std::lock_guard lock(mutex_);
      while (!kept_.empty() && (kept_bytes_ + bytes > most_bytes || kept_.size() >= most_buffers)) {
        freed.push_back(kept_.front().second);
        kept_bytes_ -= kept_.front().first;
        kept_.erase(kept_.begin());
      }
      kept_.emplace_back(bytes, p);
      kept_bytes_ += bytes;
    }
    for (std::byte* f : freed) delete[] f;
    return true;
  }

  std::size_t kept_bytes() {
    const std::lock_guard lock(mutex_);
    return kept_bytes_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<std::size_t, std::byte*>> kept_;  // oldest first
  std::size_t kept_bytes_ = 0;
};

}  // namespace

void HostBufferRelease::operator()(std::byte* p) const noexcept {
  if (p == nullptr) return;
  bool kept = false;
  try {
    kept = BufferRecycler::instance().keep(p, bytes);
  } catch (...) {  // no memory for the list: free the buffer instead
  }
  if (!kept) delete[] p;
}

std::size_t recycled_host_bytes() { return BufferRecycler::instance().kept_bytes(); }

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
  const std::size_t bytes = total == 0 ? 1 : static_cast<std::size_t>(total);
  try {
    std::byte* recycled = BufferRecycler::instance().take(bytes);
    data_ = std::unique_ptr<std::byte[], HostBufferRelease>(recycled != nullptr ? recycled : new std::byte[bytes],
                                                            HostBufferRelease{bytes});
  } catch (const std::bad_alloc&) {
    throw ResourceError(concat("cannot allocate ", byte_count_text(total), " for a ", height, " x ", width,
                               " x ", samples, " ", to_string(dtype), " image"));
  }
}

}  // namespace tilestream
