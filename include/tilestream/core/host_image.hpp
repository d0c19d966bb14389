// An image in host memory: height x width x samples, interleaved, C order, native byte order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "tilestream/core/dtype.hpp"

namespace tilestream {

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
  std::unique_ptr<std::byte[]> data_;
};

}  // namespace tilestream
