// Placing tiles held in device memory into a batch of patches in device memory: the CUDA twin of
// place_patch_pieces (tilestream/slide/place_patches.hpp), equal to it byte for byte. Built with CUDA
// only.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tilestream/cuda/stream.hpp"
#include "tilestream/slide/place_patches.hpp"

namespace tilestream::slide {

// Queues on `stream` the copy of `count` pieces (a table in device memory) from `tiles` (device
// memory: tiles tile_base, tile_base + 1, ... of the plan, tile_bytes() apart, `tile_count` of them)
// into `out` (the stacked patches, in device memory). A piece whose tile is not in the buffer is
// skipped, so that a wrong table cannot write past it; the caller's tables come from plan_patches.
void place_patch_pieces(const std::byte* tiles, std::uint32_t tile_base, std::size_t tile_count,
                        const PatchPiece* pieces, std::size_t count, const PatchGeometry& geometry, std::byte* out,
                        const cuda::Stream& stream);

}  // namespace tilestream::slide
