// One row copied by a thread block with the widest word that the row's source, destination and length
// all allow: shared by the placement kernels (place_tiles.cu, place_patches.cu).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tilestream::slide {

template <class Word>
__device__ void copy_row_as(const std::byte* src, std::byte* dst, std::size_t bytes) {
  const auto* from = reinterpret_cast<const Word*>(src);
  auto* to = reinterpret_cast<Word*>(dst);
  const std::size_t words = bytes / sizeof(Word);
  for (std::size_t i = threadIdx.x; i < words; i += blockDim.x) to[i] = from[i];
}

__device__ inline void copy_row(const std::byte* src, std::byte* dst, std::size_t bytes) {
  // The same for every thread of the block: no divergence.
  const auto alignment = reinterpret_cast<std::uintptr_t>(src) | reinterpret_cast<std::uintptr_t>(dst) | bytes;
  if (alignment % 16 == 0) {
    copy_row_as<uint4>(src, dst, bytes);
  } else if (alignment % 8 == 0) {
    copy_row_as<uint2>(src, dst, bytes);
  } else if (alignment % 4 == 0) {
    copy_row_as<unsigned int>(src, dst, bytes);
  } else if (alignment % 2 == 0) {
    copy_row_as<unsigned short>(src, dst, bytes);
  } else {
    copy_row_as<unsigned char>(src, dst, bytes);
  }
}

}  // namespace tilestream::slide
