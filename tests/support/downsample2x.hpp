// The downsample2x op on a whole interleaved image, for tests that need the 2x mean of an image as
// their expected pixels (convert's built pyramid levels, downsampled sources).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tilestream/ops/op.hpp"

namespace tilestream::testing {

// `src` holds height x width x samples samples of `dtype`; returns the ceil(h/2) x ceil(w/2) result.
inline std::vector<std::byte> downsample2x_of(std::span<const std::byte> src, std::uint64_t height,
                                              std::uint64_t width, std::uint32_t samples, DType dtype) {
  const std::unique_ptr<ops::Op> op = ops::make_op("downsample2x");
  const ops::ImageShape in{height, width, samples, dtype};
  const ops::ImageShape out = op->output_shape(in);
  std::vector<std::byte> result(out.size_bytes());
  op->run_cpu({src.data(), width * in.pixel_bytes(), {0, 0, height, width}}, in,
              {result.data(), out.width * out.pixel_bytes(), {0, 0, out.height, out.width}});
  return result;
}

}  // namespace tilestream::testing
