// The kernels of GPU chunk encoding (src/zarr/device_kernels.cu), for zarr::DeviceChunkEncoder: blosc's
// byte shuffle of each block and Adler-32 checksums. Their CPU twins are blosc's shuffle (c-blosc's
// shuffle_generic) and zlib's adler32, which the GPU tests decode against.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

namespace tilestream::zarr::device {

// Byte-shuffles the `bytes` bytes at `src` into `dst` (device memory, not overlapping) block by block,
// as blosc does before compressing: each block of `blocksize` bytes (the last one shorter when
// blocksize does not divide `bytes`) has its n = block / typesize samples' byte j written to
// dst[j * n + i]; the block's last block % typesize bytes are copied as they are.
void launch_byte_shuffle(const std::byte* src, std::byte* dst, std::size_t bytes, std::size_t blocksize,
                         std::size_t typesize, cudaStream_t stream);

// adler32[k] = the Adler-32 (zlib's, starting at 1) of the inputs[k] bytes at sizes[k], for k < count;
// all four arrays in device memory.
void launch_adler32(const void* const* inputs, const std::size_t* sizes, std::size_t count,
                    std::uint32_t* adler32, cudaStream_t stream);

}  // namespace tilestream::zarr::device
