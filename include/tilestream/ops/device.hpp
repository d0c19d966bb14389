// The ops run on the device (built with CUDA only): run_op runs one op through its CUDA twin (the
// launcher of src/ops/<op>.cu, found in the table of ops), run_chain a chain of them. The twins keep
// the semantics, borders, halos and output dtypes of the CPU runs (ops/op.hpp) on tiles in device
// memory. Each op's kernels compute an output sample from its input neighbourhood only, with the
// CPU's operations in the CPU's order (rounded one by one, no fused multiply-add), so
//  - the device result equals run_cpu's bit for bit. One exception, float32 median: the kernel ranks
//    samples in IEEE total order (-NaN < -inf < ... < -0 < +0 < ... < +inf < +NaN) where the CPU's
//    std::nth_element compares with <, so a window whose middle is -0.0 tied with +0.0 may differ in
//    the zero's sign, and a window holding NaN has no specified CPU result; and
//  - a tiled device run equals a whole-image device run bit for bit, whatever the tile grid.
#pragma once

#include <cstddef>

#include "tilestream/cuda/device_image.hpp"
#include "tilestream/cuda/stream.hpp"
#include "tilestream/ops/chain.hpp"
#include "tilestream/ops/op.hpp"

namespace tilestream::ops {

// Interleaved (y, x, c) pixels in device memory covering `box` of an image, rows `row_stride` bytes
// apart. Views do not own their memory.
struct DeviceTileView {
  std::byte* data = nullptr;
  std::size_t row_stride = 0;
  Box box;
};
struct ConstDeviceTileView {
  const std::byte* data = nullptr;
  std::size_t row_stride = 0;
  Box box;
};

// The whole of `image` as a tile view, and its shape.
inline DeviceTileView whole_view(cuda::DeviceImage& image) {
  return {image.data(), image.row_stride(), {0, 0, image.height(), image.width()}};
}
inline ConstDeviceTileView whole_view(const cuda::DeviceImage& image) {
  return {image.data(), image.row_stride(), {0, 0, image.height(), image.width()}};
}
inline ImageShape shape_of(const cuda::DeviceImage& image) {
  return {image.height(), image.width(), image.samples(), image.dtype()};
}

// The CUDA twin of op.run_cpu(in, in_shape, out): computes the pixels of out.box of the output image
// from `in`, which covers exactly op.input_box(out.box, in_shape) of the input image `in_shape`
// (borders are the whole image's). Queued on `stream`; scratch memory (gaussian's intermediate band)
// is allocated and freed stream-ordered on it, so the call returns without waiting for the device.
// `in` and `out` must be device memory of `stream`'s device, must not overlap, and must be aligned
// to their sample size (data and row_stride), which device allocations and views into them are.
// Throws UsageError for everything run_cpu refuses (the op's dtype and sample rules, an output box
// outside the output, an input box other than the one the output needs, no memory, short strides)
// and for memory that is not on the device or misaligned, UsageError for an op that is not in the
// table of ops (make_op's); CudaError when a launch fails.
void run_op(const Op& op, const ConstDeviceTileView& in, const ImageShape& in_shape, const DeviceTileView& out,
            const cuda::Stream& stream);

// The CUDA twin of chain.run_cpu: `in` covers exactly chain.input_box(out.box, in_shape); each op runs
// with run_op into an intermediate tile of the box the next op needs (chain.input_boxes), allocated
// and freed stream-ordered on `stream` (chain.scratch_bytes of them at most, two at a time). Errors as
// run_op, and UsageError for an input box other than the one the chain needs.
void run_chain(const Chain& chain, const ConstDeviceTileView& in, const ImageShape& in_shape,
               const DeviceTileView& out, const cuda::Stream& stream);

}  // namespace tilestream::ops
