// Device blocks for GPU compression: a band of (y, x, c) rows spread into a block of (c, y, x)
// planes, the device twin of the sink's gathering (ZarrChunkSink::BufferedRows::put_planes). Built
// with CUDA only.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace tilestream::pipeline {

// Sample c of pixel (y, x) of the band (`rows` x `width` pixels of `samples` samples of
// `sample_bytes` bytes, rows `src_stride` bytes apart) goes to
// dst + c * plane_bytes + y * dst_row_bytes + x * sample_bytes. Queued on `stream`.
void scatter_band_to_planes(const std::byte* src, std::size_t src_stride, std::uint64_t rows, std::uint64_t width,
                            std::uint32_t samples, std::size_t sample_bytes, std::byte* dst, std::size_t plane_bytes,
                            std::size_t dst_row_bytes, cudaStream_t stream);

}  // namespace tilestream::pipeline
