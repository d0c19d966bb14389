// Comparing decoded images: the same bytes, or the largest and the mean absolute difference of two
// 8-bit images, byte by byte over the bytes both hold (how far the GPU's JPEG decoding lands from
// libjpeg's).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "tilestream/core/host_image.hpp"

namespace tilestream::testing {

// Whether two images hold the same bytes.
inline bool same_bytes(const HostImage& a, const HostImage& b) {
  return a.size_bytes() == b.size_bytes() && std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
}

struct PixelDifference {
  int max = 0;
  double mean = 0;
};

inline PixelDifference pixel_difference(const HostImage& a, const HostImage& b) {
  const auto* x = reinterpret_cast<const unsigned char*>(a.data());
  const auto* y = reinterpret_cast<const unsigned char*>(b.data());
  PixelDifference d;
  double sum = 0;
  const std::size_t n = std::min(a.size_bytes(), b.size_bytes());
  for (std::size_t i = 0; i < n; ++i) {
    const int diff = std::abs(int{x[i]} - int{y[i]});
    d.max = std::max(d.max, diff);
    sum += diff;
  }
  d.mean = n > 0 ? sum / static_cast<double>(n) : 0;
  return d;
}

}  // namespace tilestream::testing
