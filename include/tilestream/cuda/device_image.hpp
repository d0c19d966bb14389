// An image in device memory: height x width x samples of one dtype, owning its DeviceBuffer, exportable
// to DLPack.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tilestream/core/dtype.hpp"
#include "tilestream/core/host_image.hpp"
#include "tilestream/cuda/dlpack.hpp"
#include "tilestream/cuda/memory.hpp"
#include "tilestream/cuda/stream.hpp"

namespace tilestream::cuda {

class DeviceImage {
 public:
  DeviceImage() = default;
  // Allocates (uninitialised) a C-ordered image on `stream`'s device, rows packed. Throws UsageError for
  // empty or absurd shapes, CudaError when the device is out of memory.
  DeviceImage(std::uint64_t height, std::uint64_t width, std::uint32_t samples, DType dtype,
              const Stream& stream);

  std::uint64_t height() const { return height_; }
  std::uint64_t width() const { return width_; }
  std::uint32_t samples() const { return samples_; }
  DType dtype() const { return dtype_; }
  int device() const { return buffer_.device(); }
  // Strides in bytes of one step along each axis (y, x, sample).
  std::size_t row_stride() const { return row_stride_; }
  std::size_t pixel_stride() const { return std::size_t{samples_} * bytes_per_sample(dtype_); }
  std::size_t sample_stride() const { return bytes_per_sample(dtype_); }
  std::size_t row_bytes() const { return static_cast<std::size_t>(width_) * pixel_stride(); }
  std::size_t size_bytes() const { return buffer_.size(); }

  std::byte* data() { return buffer_.data(); }
  const std::byte* data() const { return buffer_.data(); }
  DeviceBuffer& buffer() { return buffer_; }

  // Copies the pixels into a new host image once `stream`'s earlier work is done; blocks until the copy
  // ends. For tests and small results, not a fast path.
  HostImage to_host(const Stream& stream) const;

  // Hands the memory to a DLPack consumer: a 3-d tensor (height, width, samples) on kDLCUDA with strides
  // in elements. Synchronises the allocation stream first, so the consumer sees finished pixels on any
  // stream. The deleter frees the memory stream-ordered on the device's legacy default stream, so the
  // consumer must have finished (or ordered on that stream) its work before calling it. Leaves this
  // image empty.
  DLManagedTensor* to_dlpack() &&;

 private:
  DeviceBuffer buffer_;
  std::uint64_t height_ = 0;
  std::uint64_t width_ = 0;
  std::uint32_t samples_ = 0;
  DType dtype_ = DType::uint8;
  std::size_t row_stride_ = 0;
};

// The DLPack dtype of a tilestream sample type.
DLDataType to_dlpack_dtype(DType dtype);

}  // namespace tilestream::cuda
