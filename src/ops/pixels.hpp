// Helpers shared by the CPU ops: typed sample access, dispatch on DType, the check that an input tile
// is the one an output tile needs, and byte offsets of neighbours clamped to the whole image (the
// 'nearest' border rule), computed once per tile instead of once per sample.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "tilestream/core/dtype.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/ops/op.hpp"

namespace tilestream::ops::detail {

template <class T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
template <class T>
void store(std::byte* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

// Calls f(T{}) with T the C++ sample type of `dtype`.
template <class F>
decltype(auto) visit_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::uint8:
      return f(std::uint8_t{});
    case DType::uint16:
      return f(std::uint16_t{});
    case DType::int8:
      return f(std::int8_t{});
    case DType::int16:
      return f(std::int16_t{});
    case DType::float32:
      return f(float{});
  }
  return f(std::uint8_t{});
}

// skimage's img_as_float of an unsigned integer sample: I * (1.0 / M), in double.
template <class T>
double unit_float(T value) {
  return static_cast<double>(value) * (1.0 / static_cast<double>(std::numeric_limits<T>::max()));
}

// Throws UsageError unless `in` covers exactly op.input_box(out.box, in_shape), `out.box` lies in
// op.output_shape(in_shape) and both views have memory and strides that hold a row.
void check_tiles(const Op& op, const ConstTileView& in, const ImageShape& in_shape, const TileView& out);

// Byte offsets from in.data of rows (or columns) first .. first + count - 1 of the whole image, each
// index clamped to [0, extent - 1] and then taken relative to the tile's first row (column). The
// tile must contain every clamped index (check_tiles guarantees it for the op's own halo).
std::vector<std::size_t> clamped_offsets(std::int64_t first, std::size_t count, std::uint64_t extent,
                                         std::uint64_t tile_first, std::size_t step);

}  // namespace tilestream::ops::detail
