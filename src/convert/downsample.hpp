// 2x area downsampling, the rule that builds pyramid datasets the slide does not store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tilestream/core/dtype.hpp"

namespace tilestream::convert {

// Output size of one axis: ceil(n / 2).
constexpr std::uint64_t downsampled_size(std::uint64_t n) { return (n + 1) / 2; }

// Downsamples an interleaved (height, width, samples) image by 2 on each axis into `dst`
// (ceil(height/2) x ceil(width/2) x samples). Each output sample is the mean of the 2x2 input block
// it covers; at odd edges only the pixels that exist are averaged (the last column averages a 2x1
// block, the last row a 1x2 block, the corner 1x1). Integers round half up (floor(mean + 1/2), also
// for signed types); float32 keeps the exact mean. Both spans are native byte order.
void downsample_2x(std::span<const std::byte> src, std::uint64_t height, std::uint64_t width,
                   std::uint32_t samples, DType dtype, std::span<std::byte> dst);

// The same rule on strided rows (an image tile): source rows `src_stride` bytes apart, destination
// rows `dst_stride` bytes apart; no size checks. The downsample2x op runs on tiles through it.
void downsample_2x_rows(const std::byte* src, std::size_t src_stride, std::uint64_t height, std::uint64_t width,
                        std::uint32_t samples, DType dtype, std::byte* dst, std::size_t dst_stride);

}  // namespace tilestream::convert
