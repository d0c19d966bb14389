// The cast and block-cutting kernels: one thread per output sample in a grid-stride loop, typed by
// the sample size so every load and store is one whole sample. CPU twins: src/core/cast.cpp and
// convert::assemble_block.
#include "tilestream/cuda/image_kernels.hpp"

#include <algorithm>
#include <cstdint>

#include "tilestream/core/cast.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/cuda/error.hpp"

namespace tilestream::cuda {
namespace {

constexpr unsigned threads_per_block = 256;

unsigned blocks_for(std::uint64_t items) {
  const std::uint64_t wanted = (items + threads_per_block - 1) / threads_per_block;
  return static_cast<unsigned>(std::clamp<std::uint64_t>(wanted, 1, 65535u * 32));
}

template <class From>
__global__ void to_float_kernel(const From* src, float* dst, std::uint64_t count) {
  for (std::uint64_t i = blockIdx.x * std::uint64_t{blockDim.x} + threadIdx.x; i < count;
       i += std::uint64_t{gridDim.x} * blockDim.x) {
    dst[i] = static_cast<float>(src[i]);
  }
}

template <class From>
void launch_to_float(const DeviceImage& image, DeviceImage& out, const Stream& stream) {
  const std::uint64_t count = image.height() * image.width() * image.samples();
  to_float_kernel<From><<<blocks_for(count), threads_per_block, 0, stream.get()>>>(
      reinterpret_cast<const From*>(image.data()), reinterpret_cast<float*>(out.data()), count);
  check_launch("to_float_kernel");
}

struct CutParams {
  const std::byte* image;
  std::byte* block;
  std::uint64_t image_height, image_width, row_stride;  // row_stride in bytes
  std::uint64_t y, x, height, width;                    // the block box
  std::uint32_t samples;
  bool channels_first;
};

// Output sample i in C order of (height, width, samples) or (samples, height, width).
template <class Sample>
__global__ void cut_block_kernel(CutParams p) {
  const std::uint64_t count = p.height * p.width * p.samples;
  for (std::uint64_t i = blockIdx.x * std::uint64_t{blockDim.x} + threadIdx.x; i < count;
       i += std::uint64_t{gridDim.x} * blockDim.x) {
    std::uint64_t r, c, s;
    if (p.channels_first) {
      s = i / (p.height * p.width);
      const std::uint64_t rest = i % (p.height * p.width);
      r = rest / p.width;
      c = rest % p.width;
    } else {
      s = i % p.samples;
      c = (i / p.samples) % p.width;
      r = i / (std::uint64_t{p.samples} * p.width);
    }
    const std::uint64_t y = p.y + r, x = p.x + c;
    Sample value{};
    if (y < p.image_height && x < p.image_width) {
      value = reinterpret_cast<const Sample*>(p.image + y * p.row_stride)[x * p.samples + s];
    }
    reinterpret_cast<Sample*>(p.block)[i] = value;
  }
}

}  // namespace

DeviceImage cast(const DeviceImage& image, DType dtype, const Stream& stream) {
  check_cast(image.dtype(), dtype);
  DeviceImage out(image.height(), image.width(), image.samples(), dtype, stream);
  if (image.dtype() == dtype) {
    check_cuda(cudaMemcpyAsync(out.data(), image.data(), image.size_bytes(), cudaMemcpyDeviceToDevice, stream.get()),
               "cudaMemcpyAsync(device to device)");
    return out;
  }
  switch (image.dtype()) {
    case DType::uint8: launch_to_float<std::uint8_t>(image, out, stream); break;
    case DType::int8: launch_to_float<std::int8_t>(image, out, stream); break;
    case DType::uint16: launch_to_float<std::uint16_t>(image, out, stream); break;
    case DType::int16: launch_to_float<std::int16_t>(image, out, stream); break;
    case DType::float32: break;
  }
  return out;
}

void cut_block(const DeviceImage& image, const BlockBox& box, std::byte* block, const Stream& stream) {
  check<UsageError>(box.height > 0 && box.width > 0 && box.y < image.height() && box.x < image.width(),
                    "cut_block: a ", box.height, " x ", box.width, " block at (", box.y, ", ", box.x,
                    ") is empty or outside the ", image.height(), " x ", image.width(), " image");
  check<UsageError>(block != nullptr, "cut_block: no destination");
  CutParams p{image.data(), block, image.height(), image.width(), image.row_stride(),
              box.y, box.x, box.height, box.width, image.samples(), box.channels_first};
  const unsigned blocks = blocks_for(box.height * box.width * image.samples());
  switch (bytes_per_sample(image.dtype())) {
    case 1: cut_block_kernel<std::uint8_t><<<blocks, threads_per_block, 0, stream.get()>>>(p); break;
    case 2: cut_block_kernel<std::uint16_t><<<blocks, threads_per_block, 0, stream.get()>>>(p); break;
    case 4: cut_block_kernel<std::uint32_t><<<blocks, threads_per_block, 0, stream.get()>>>(p); break;
    default: throw UsageError(concat("cut_block: samples of ", bytes_per_sample(image.dtype()), " bytes"));
  }
  check_launch("cut_block_kernel");
}

}  // namespace tilestream::cuda
