// An image in host memory: height x width x samples, interleaved, C order, native byte order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "tilestream/core/dtype.hpp"

namespace tilestream {

// How a HostImage gives its buffer back: large ones to a process-wide recycler (recycled_host_bytes
// below), the others to the allocator.
struct HostBufferRelease {
  std::size_t bytes = 0;
  void operator()(std::byte* p) const noexcept;
};

class HostImage {
 public:
  HostImage() = default;
  // Allocates without zero-filling: callers overwrite every byte. Throws UsageError when the size
  // overflows, ResourceError when it exceeds the host memory available now (core/memory_budget.hpp).
  HostImage(std::uint64_t height, std::uint64_t width, std::uint32_t samples, DType dtype);

  std::uint64_t height() const { return height_; }
  std::uint64_t width() const { return width_; }
  std::uint32_t samples() const { return samples_; }
  DType dtype() const { return dtype_; }
  std::size_t pixel_bytes() const { return samples_ * bytes_per_sample(dtype_); }
  std::size_t row_bytes() const { return static_cast<std::size_t>(width_) * pixel_bytes(); }
  std::size_t size_bytes() const { return row_bytes() * static_cast<std::size_t>(height_); }

  std::byte* data() { return data_.get(); }
  const std::byte* data() const { return data_.get(); }
  std::byte* row(std::uint64_t y) { return data_.get() + y * row_bytes(); }
  const std::byte* row(std::uint64_t y) const { return data_.get() + y * row_bytes(); }
  std::span<const std::byte> bytes() const { return {data_.get(), size_bytes()}; }

 private:
  std::uint64_t height_ = 0;
  std::uint64_t width_ = 0;
  std::uint32_t samples_ = 0;
  DType dtype_ = DType::uint8;
  std::unique_ptr<std::byte[], HostBufferRelease> data_;
};

// Large image buffers kept for the next image of the same size. A fresh allocation of tens of MB
// costs a page fault per 4 KiB page the first time it is written (about 7 ms for a batch of 256
// patches of 256 x 256 RGB, a third of the time its decoding takes on 16 cores), and batches of
// patches come one after another at one size. Buffers of 4 MiB to 512 MiB are kept, at most 1 GiB
// and 8 buffers in all, the oldest freed first. The bytes kept now, for tests and reports.
std::size_t recycled_host_bytes();

}  // namespace tilestream
