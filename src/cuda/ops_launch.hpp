// Internal to the CUDA ops: the geometry every op kernel gets (plain fields, usable in device code)
// and one launcher per op family, each in its own src/cuda/ops_<family>.cu. run_op (ops.cpp) checks
// the arguments and dispatches; launchers trust them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tilestream/core/dtype.hpp"
#include "tilestream/cuda/stream.hpp"

namespace tilestream::cuda::detail {

// An output tile and the input tile it needs, both in device memory, and the whole input image.
// Boxes are in image coordinates (the output image's for out_*, the input image's for in_*);
// strides in bytes.
struct TilePair {
  const std::byte* in = nullptr;
  std::size_t in_stride = 0;
  std::uint64_t in_y = 0, in_x = 0, in_height = 0, in_width = 0;
  std::byte* out = nullptr;
  std::size_t out_stride = 0;
  std::uint64_t out_y = 0, out_x = 0, out_height = 0, out_width = 0;
  std::uint64_t image_height = 0, image_width = 0;  // the input image
  std::uint32_t samples = 0;                        // input samples per pixel
};

// `dtype` is the input's sample type, already accepted by the op's output_shape.
void launch_absorbance(const TilePair& t, const Stream& stream);
void launch_grayscale(const TilePair& t, DType dtype, const Stream& stream);
void launch_sobel(const TilePair& t, DType dtype, const Stream& stream);
void launch_gaussian(const TilePair& t, DType dtype, double sigma, const Stream& stream);
void launch_median(const TilePair& t, DType dtype, std::uint32_t size, const Stream& stream);
void launch_downsample2x(const TilePair& t, DType dtype, const Stream& stream);

}  // namespace tilestream::cuda::detail
