// Box copies and axis permutation over C-order arrays: rows of the last dimension are copied
// with memcpy; the other dimensions are walked with an odometer.
#include "zarr/box_copy.hpp"

#include <algorithm>
#include <cstring>

namespace tilestream::zarr {

std::uint64_t element_count(std::span<const std::uint64_t> shape) {
  std::uint64_t n = 1;
  for (std::uint64_t d : shape) n *= d;
  return n;
}

namespace {
std::vector<std::uint64_t> strides_of(std::span<const std::uint64_t> shape) {
  std::vector<std::uint64_t> strides(shape.size(), 1);
  for (std::size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  return strides;
}
}  // namespace

void copy_box(const std::byte* src, std::span<const std::uint64_t> src_shape,
              std::span<const std::uint64_t> src_origin, std::byte* dst,
              std::span<const std::uint64_t> dst_shape, std::span<const std::uint64_t> dst_origin,
              std::span<const std::uint64_t> extent, std::size_t elsize) {
  const std::size_t rank = extent.size();
  if (element_count(extent) == 0) return;
  const std::vector<std::uint64_t> ss = strides_of(src_shape), ds = strides_of(dst_shape);
  // Merge trailing dimensions that are whole in both arrays into one contiguous run.
  std::size_t inner = rank - 1;
  std::uint64_t run = extent[inner];
  while (inner > 0 && extent[inner] == src_shape[inner] && extent[inner] == dst_shape[inner]) {
    --inner;
    run *= extent[inner];
  }
  const std::size_t row_bytes = static_cast<std::size_t>(run) * elsize;
  std::vector<std::uint64_t> index(inner, 0);
  for (;;) {
    std::uint64_t s = 0, d = 0;
    for (std::size_t k = 0; k < inner; ++k) {
      s += (src_origin[k] + index[k]) * ss[k];
      d += (dst_origin[k] + index[k]) * ds[k];
    }
    s += src_origin[inner] * ss[inner];
    d += dst_origin[inner] * ds[inner];
    std::memcpy(dst + d * elsize, src + s * elsize, row_bytes);
    std::size_t k = inner;
    while (k > 0) {
      --k;
      if (++index[k] < extent[k]) break;
      index[k] = 0;
      if (k == 0) return;
    }
    if (inner == 0) return;
  }
}

namespace {
template <std::size_t N>
void permute_rows(const std::byte* src, std::byte* dst, std::span<const std::uint64_t> dst_shape,
                  std::span<const std::uint64_t> src_stride_for_dst) {
  const std::size_t rank = dst_shape.size();
  const std::uint64_t n_last = dst_shape[rank - 1];
  const std::uint64_t step = src_stride_for_dst[rank - 1] * N;
  std::vector<std::uint64_t> index(rank - 1, 0);
  std::byte* out = dst;
  for (;;) {
    std::uint64_t s = 0;
    for (std::size_t k = 0; k + 1 < rank; ++k) s += index[k] * src_stride_for_dst[k];
    const std::byte* in = src + s * N;
    for (std::uint64_t i = 0; i < n_last; ++i, in += step, out += N) std::memcpy(out, in, N);
    std::size_t k = rank - 1;
    for (;;) {
      if (k == 0) return;
      --k;
      if (++index[k] < dst_shape[k]) break;
      index[k] = 0;
    }
  }
}
}  // namespace

std::vector<std::byte> permute_axes(std::span<const std::byte> src, std::span<const std::uint64_t> src_shape,
                                    std::span<const int> order, std::size_t elsize) {
  const std::size_t rank = src_shape.size();
  std::vector<std::byte> dst(src.size());
  if (src.empty()) return dst;
  const std::vector<std::uint64_t> strides = strides_of(src_shape);
  std::vector<std::uint64_t> dst_shape(rank), src_stride_for_dst(rank);
  for (std::size_t k = 0; k < rank; ++k) {
    dst_shape[k] = src_shape[order[k]];
    src_stride_for_dst[k] = strides[order[k]];
  }
  switch (elsize) {
    case 1:
      permute_rows<1>(src.data(), dst.data(), dst_shape, src_stride_for_dst);
      break;
    case 2:
      permute_rows<2>(src.data(), dst.data(), dst_shape, src_stride_for_dst);
      break;
    case 4:
      permute_rows<4>(src.data(), dst.data(), dst_shape, src_stride_for_dst);
      break;
    default:
      permute_rows<8>(src.data(), dst.data(), dst_shape, src_stride_for_dst);
      break;
  }
  return dst;
}

std::vector<int> inverse_order(std::span<const int> order) {
  std::vector<int> inverse(order.size());
  for (std::size_t k = 0; k < order.size(); ++k) inverse[order[k]] = static_cast<int>(k);
  return inverse;
}

void swap_bytes(std::span<std::byte> data, std::size_t elsize) {
  if (elsize <= 1) return;
  for (std::size_t i = 0; i + elsize <= data.size(); i += elsize)
    std::reverse(data.begin() + i, data.begin() + i + elsize);
}

}  // namespace tilestream::zarr
