// Kernels of GPU chunk encoding: blosc's per-block byte shuffle and batched Adler-32. CPU twins:
// c-blosc's shuffle_generic and zlib's adler32 (the GPU tests decode the frames with them).
#include "zarr/device_kernels.hpp"

#include <algorithm>

#include "tilestream/cuda/error.hpp"

namespace tilestream::zarr::device {
namespace {

constexpr std::uint64_t adler_modulus = 65521;
constexpr unsigned adler_threads = 256;

// One thread per output byte (grid-stride): the source byte of dst[at].
__global__ void byte_shuffle_kernel(const std::byte* src, std::byte* dst, std::size_t bytes,
                                    std::size_t blocksize, std::size_t typesize) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t at = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; at < bytes; at += stride) {
    const std::size_t block_start = at / blocksize * blocksize;
    const std::size_t block = min(blocksize, bytes - block_start);
    const std::size_t samples = block / typesize;
    const std::size_t in_block = at - block_start;
    std::size_t from = in_block;  // the tail of block % typesize bytes stays where it is
    if (in_block < samples * typesize) {
      const std::size_t byte = in_block / samples;
      const std::size_t sample = in_block % samples;
      from = sample * typesize + byte;
    }
    dst[at] = src[block_start + from];
  }
}

// One block per input: Adler-32 as a = 1 + sum(d_i), b = n + sum((n - i) * d_i) (mod 65521), each
// thread summing a strided share in 64 bits (its terms stay below 2^24, far from overflow even for
// 4 GiB inputs), then a shared-memory reduction.
__global__ void adler32_kernel(const void* const* inputs, const std::size_t* sizes, std::uint32_t* out) {
  const auto* data = static_cast<const unsigned char*>(inputs[blockIdx.x]);
  const std::size_t n = sizes[blockIdx.x];
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  for (std::size_t i = threadIdx.x; i < n; i += blockDim.x) {
    const std::uint64_t d = data[i];
    a += d;
    b += ((n - i) % adler_modulus) * d;
  }
  __shared__ std::uint64_t shared_a[adler_threads];
  __shared__ std::uint64_t shared_b[adler_threads];
  shared_a[threadIdx.x] = a % adler_modulus;
  shared_b[threadIdx.x] = b % adler_modulus;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) {
      shared_a[threadIdx.x] += shared_a[threadIdx.x + half];
      shared_b[threadIdx.x] += shared_b[threadIdx.x + half];
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    const std::uint64_t sum_a = (1 + shared_a[0]) % adler_modulus;
    const std::uint64_t sum_b = (n % adler_modulus + shared_b[0]) % adler_modulus;
    out[blockIdx.x] = static_cast<std::uint32_t>(sum_b << 16 | sum_a);
  }
}

}  // namespace

void launch_byte_shuffle(const std::byte* src, std::byte* dst, std::size_t bytes, std::size_t blocksize,
                         std::size_t typesize, cudaStream_t stream) {
  if (bytes == 0) return;
  constexpr unsigned threads = 256;
  const auto blocks = static_cast<unsigned>(std::min<std::size_t>((bytes + threads - 1) / threads, 65535));
  byte_shuffle_kernel<<<blocks, threads, 0, stream>>>(src, dst, bytes, blocksize, typesize);
  cuda::check_launch("byte_shuffle_kernel");
}

void launch_adler32(const void* const* inputs, const std::size_t* sizes, std::size_t count,
                    std::uint32_t* adler32, cudaStream_t stream) {
  if (count == 0) return;
  adler32_kernel<<<static_cast<unsigned>(count), adler_threads, 0, stream>>>(inputs, sizes, adler32);
  cuda::check_launch("adler32_kernel");
}

}  // namespace tilestream::zarr::device
