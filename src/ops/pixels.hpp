// Helpers shared by the CPU ops: typed sample access, dispatch on DType, the check that an input tile
// is the one an output tile needs, and byte offsets of neighbours clamped to the whole image (the
// 'nearest' border rule), computed once per tile instead of once per sample.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "tilestream/core/dtype.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/float16.hpp"
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

// Calls f(T{}) with T the C++ sample type of `dtype` (Float16 for float16).
template <class F>
decltype(auto) visit_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::uint32:
      return f(std::uint32_t{});
    case DType::int32:
      return f(std::int32_t{});
    case DType::float16:
      return f(Float16{});
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

// The sample types the filters (sobel, gaussian, grayscale, hed) take, and their refusal of the others.
constexpr bool is_filter_dtype(DType dtype) {
  return dtype == DType::uint8 || dtype == DType::uint16 || dtype == DType::float32;
}
inline std::string filter_dtype_refusal(DType dtype) {
  return concat("needs uint8, uint16 or float32 samples, not ", to_string(dtype),
                " (cast:dtype=float32 before it converts them)");
}

// Calls f(T{}) with T the C++ sample type of `dtype`, one of the types the filters (sobel, gaussian,
// grayscale, hed) take: uint8, uint16 and float32; their output_shape refuses the others by name first.
template <class F>
void visit_filter_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::uint8: f(std::uint8_t{}); return;
    case DType::uint16: f(std::uint16_t{}); return;
    case DType::float32: f(float{}); return;
    default: break;
  }
  throw UsageError(concat("no filter for ", to_string(dtype), " samples"));
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
