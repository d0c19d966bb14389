// Device images: allocation, copies back to the host, and DLPack export.
#include "tilestream/cuda/device_image.hpp"

#include <memory>

#include "tilestream/core/error.hpp"
#include "tilestream/cuda/error.hpp"

namespace tilestream::cuda {
namespace {

// What a DLManagedTensor's manager_ctx points at: the memory and the arrays DLTensor refers to.
struct DlpackContext {
  DeviceBuffer buffer;
  std::int64_t shape[3] = {};
  std::int64_t strides[3] = {};
  DLManagedTensor tensor{};
};

void delete_dlpack_context(DLManagedTensor* tensor) {
  if (tensor == nullptr) return;
  const std::unique_ptr<DlpackContext> owner(static_cast<DlpackContext*>(tensor->manager_ctx));
}

}  // namespace

DLDataType to_dlpack_dtype(DType dtype) {
  const auto bits = static_cast<std::uint8_t>(8 * bytes_per_sample(dtype));
  const std::uint8_t code = is_float(dtype) ? kDLFloat : is_signed(dtype) ? kDLInt : kDLUInt;
  return DLDataType{code, bits, 1};
}

DeviceImage::DeviceImage(std::uint64_t height, std::uint64_t width, std::uint32_t samples, DType dtype,
                         const Stream& stream)
    : height_(height), width_(width), samples_(samples), dtype_(dtype) {
  constexpr std::uint64_t max_bytes = std::uint64_t{1} << 42;
  check<UsageError>(samples > 0 && samples <= 16, "device image with ", samples, " samples per pixel");
  check<UsageError>(width == 0 || height <= max_bytes / width / pixel_stride(), "device image of ", height,
                    " x ", width, " x ", samples, " ", to_string(dtype), " exceeds 4 TiB");
  row_stride_ = row_bytes();
  buffer_ = DeviceBuffer(row_stride_ * static_cast<std::size_t>(height), stream);
}

HostImage DeviceImage::to_host(const Stream& stream) const {
  HostImage host(height_, width_, samples_, dtype_);
  if (host.size_bytes() == 0) return host;
  check_cuda(cudaMemcpy2DAsync(host.data(), host.row_bytes(), buffer_.data(), row_stride_, row_bytes(),
                               static_cast<std::size_t>(height_), cudaMemcpyDeviceToHost, stream.get()),
             "cudaMemcpy2DAsync (device image to host)");
  stream.synchronize();
  return host;
}

DLManagedTensor* DeviceImage::to_dlpack() && {
  check_cuda(cudaStreamSynchronize(buffer_.free_stream()), "cudaStreamSynchronize (before DLPack export)");
  auto context = std::make_unique<DlpackContext>();
  const auto sample = static_cast<std::int64_t>(bytes_per_sample(dtype_));
  context->shape[0] = static_cast<std::int64_t>(height_);
  context->shape[1] = static_cast<std::int64_t>(width_);
  context->shape[2] = samples_;
  context->strides[0] = static_cast<std::int64_t>(row_stride_) / sample;
  context->strides[1] = static_cast<std::int64_t>(pixel_stride()) / sample;
  context->strides[2] = 1;
  DLTensor& t = context->tensor.dl_tensor;
  t.data = buffer_.data();
  t.device = DLDevice{kDLCUDA, buffer_.device()};
  t.ndim = 3;
  t.dtype = to_dlpack_dtype(dtype_);
  t.shape = context->shape;
  t.strides = context->strides;
  t.byte_offset = 0;
  context->buffer = std::move(buffer_);
  // Our stream may be gone when the consumer lets go; the legacy default stream always exists.
  context->buffer.set_free_stream(cudaStreamLegacy);
  context->tensor.manager_ctx = context.get();
  context->tensor.deleter = delete_dlpack_context;
  height_ = width_ = 0;
  row_stride_ = 0;
  return &context.release()->tensor;
}

}  // namespace tilestream::cuda
