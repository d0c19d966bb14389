// YCbCr to RGB for 8-bit samples, the arithmetic of one pixel shared by the CPU decoders and their CUDA
// twins (src/codec/nvjpeg2k_pixels.cu), so that both give the same bytes. It is libjpeg's (jdcolor.c,
// TIFF 6.0 section 21 / CCIR 601-1 coefficients in 16-bit fixed point), which OpenSlide also applies
// to Aperio's YCbCr JPEG 2000 tiles (33003): with Cb' = Cb - 128, Cr' = Cr - 128 and
// FIX(k) = round(k * 65536),
//   R = Y + ((FIX(1.40200) * Cr' + 32768) >> 16)
//   G = Y + ((-FIX(0.34414) * Cb' - FIX(0.71414) * Cr' + 32768) >> 16)
//   B = Y + ((FIX(1.77200) * Cb' + 32768) >> 16)
// each clamped to 0..255 (>> is an arithmetic shift: rounds towards minus infinity).
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define TILESTREAM_HOST_DEVICE __host__ __device__
#else
#define TILESTREAM_HOST_DEVICE
#endif

namespace tilestream::codec {

struct Rgb8 {
  std::uint8_t r, g, b;
};

TILESTREAM_HOST_DEVICE inline std::uint8_t clamp_to_byte(std::int32_t v) {
  return static_cast<std::uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

TILESTREAM_HOST_DEVICE inline Rgb8 ycbcr_to_rgb(std::uint8_t y, std::uint8_t cb, std::uint8_t cr) {
  constexpr std::int32_t fix_1_40200 = 91881;  // round(1.40200 * 65536)
  constexpr std::int32_t fix_0_34414 = 22554;
  constexpr std::int32_t fix_0_71414 = 46802;
  constexpr std::int32_t fix_1_77200 = 116130;
  constexpr std::int32_t half = 1 << 15;
  const std::int32_t b_diff = std::int32_t{cb} - 128;
  const std::int32_t r_diff = std::int32_t{cr} - 128;
  const std::int32_t luma = y;
  return {clamp_to_byte(luma + ((fix_1_40200 * r_diff + half) >> 16)),
          clamp_to_byte(luma + ((-fix_0_34414 * b_diff - fix_0_71414 * r_diff + half) >> 16)),
          clamp_to_byte(luma + ((fix_1_77200 * b_diff + half) >> 16))};
}

}  // namespace tilestream::codec

#undef TILESTREAM_HOST_DEVICE
