// The geometry every op kernel gets (plain fields, usable in device code and in builds without CUDA):
// run_op (src/ops/device.cu) fills it from checked tile views and hands it to the op's launcher
// (src/ops/<op>.cu, found through the table of ops, src/ops/op_table.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tilestream::ops::device {

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

}  // namespace tilestream::ops::device
