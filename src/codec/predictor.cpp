// Horizontal differencing per row and per sample, on 8-, 16- or 32-bit samples with wraparound, and
// the floating-point predictor's byte planes.
#include "codec/predictor.hpp"

#include <bit>
#include <cstdint>
#include <cstring>
#include <vector>

#include "tilestream/core/error.hpp"

namespace tilestream::codec {
namespace {

// Samples are read and written through memcpy: the buffers carry no alignment guarantee.
template <class T>
T load(const std::byte* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}
template <class T>
void store(std::byte* p, T value) {
  std::memcpy(p, &value, sizeof(T));
}

template <class T>
void undo_rows(const TileLayout& layout, std::span<std::byte> data) {
  const std::size_t row_samples = static_cast<std::size_t>(layout.width) * layout.samples;
  const std::size_t stride = layout.samples;
  for (std::uint32_t r = 0; r < layout.rows; ++r) {
    std::byte* row = data.data() + r * row_samples * sizeof(T);
    for (std::size_t i = stride; i < row_samples; ++i) {
      const auto sum = static_cast<T>(load<T>(row + i * sizeof(T)) + load<T>(row + (i - stride) * sizeof(T)));
      store<T>(row + i * sizeof(T), sum);
    }
  }
}

template <class T>
void apply_rows(const TileLayout& layout, std::span<std::byte> data) {
  const std::size_t row_samples = static_cast<std::size_t>(layout.width) * layout.samples;
  const std::size_t stride = layout.samples;
  for (std::uint32_t r = 0; r < layout.rows; ++r) {
    std::byte* row = data.data() + r * row_samples * sizeof(T);
    // Backwards, so that each difference uses the original left neighbour.
    for (std::size_t i = row_samples; i-- > stride;) {
      const auto diff =
          static_cast<T>(load<T>(row + i * sizeof(T)) - load<T>(row + (i - stride) * sizeof(T)));
      store<T>(row + i * sizeof(T), diff);
    }
  }
}

// Predictor 3, undone on one row of `bytes` bytes (`samples` samples of `width` bytes each, `stride`
// samples a pixel): the byte-wise running sum, then the byte planes (most significant first) back
// into host-order samples.
void undo_float_row(std::byte* row, std::size_t bytes, std::size_t width, std::size_t stride,
                    std::vector<std::byte>& planes) {
  for (std::size_t i = stride; i < bytes; ++i)
    row[i] = static_cast<std::byte>(std::to_integer<unsigned>(row[i]) +
                                    std::to_integer<unsigned>(row[i - stride]));
  planes.assign(row, row + bytes);
  const std::size_t samples = bytes / width;
  for (std::size_t s = 0; s < samples; ++s) {
    for (std::size_t b = 0; b < width; ++b) {
      // Plane b holds the b-th most significant byte.
      const std::size_t host = std::endian::native == std::endian::big ? b : width - 1 - b;
      row[s * width + host] = planes[b * samples + s];
    }
  }
}

void apply_float_row(std::byte* row, std::size_t bytes, std::size_t width, std::size_t stride,
                     std::vector<std::byte>& planes) {
  planes.assign(row, row + bytes);
  const std::size_t samples = bytes / width;
  for (std::size_t s = 0; s < samples; ++s) {
    for (std::size_t b = 0; b < width; ++b) {
      const std::size_t host = std::endian::native == std::endian::big ? b : width - 1 - b;
      row[b * samples + s] = planes[s * width + host];
    }
  }
  for (std::size_t i = bytes; i-- > stride;)
    row[i] = static_cast<std::byte>(std::to_integer<unsigned>(row[i]) -
                                    std::to_integer<unsigned>(row[i - stride]));
}

template <class Row>
void float_rows(const TileLayout& layout, std::span<std::byte> data, Row row_fn) {
  const std::size_t width = bytes_per_sample(layout.dtype);
  const std::size_t bytes = static_cast<std::size_t>(layout.width) * layout.samples * width;
  thread_local std::vector<std::byte> planes;
  for (std::uint32_t r = 0; r < layout.rows; ++r)
    row_fn(data.data() + r * bytes, bytes, width, layout.samples, planes);
}

// Calls f with a value of the unsigned type as wide as layout's samples (horizontal differencing
// works on their bit patterns).
template <class F>
void with_sample_width(const TileLayout& layout, F f) {
  switch (bytes_per_sample(layout.dtype)) {
    case 1: f(std::uint8_t{}); return;
    case 2: f(std::uint16_t{}); return;
    default: f(std::uint32_t{}); return;
  }
}

}  // namespace

void check_predictor(const TileLayout& layout) {
  const std::uint16_t value = layout.predictor;
  if (value == predictor::none) return;
  check<UnsupportedError>(!layout.bilevel, "predictor ", value, " is not supported for 1-bit samples (as in libtiff)");
  if (value == predictor::horizontal) return;
  if (value == predictor::floating_point) {
    if (is_float(layout.dtype)) return;
    throw UnsupportedError(concat("predictor 3 (floating point) is not supported for ",
                                  to_string(layout.dtype), " samples (it takes 16- and 32-bit floating-point ones)"));
  }
  throw UnsupportedError(concat("predictor ", value, " is not supported"));
}

void undo_predictor(const TileLayout& layout, std::span<std::byte> data) {
  check_predictor(layout);
  if (layout.predictor == predictor::floating_point) float_rows(layout, data, undo_float_row);
  if (layout.predictor != predictor::horizontal) return;
  with_sample_width(layout, [&](auto sample) { undo_rows<decltype(sample)>(layout, data); });
}

void apply_predictor(const TileLayout& layout, std::span<std::byte> data) {
  check_predictor(layout);
  if (layout.predictor == predictor::floating_point) float_rows(layout, data, apply_float_row);
  if (layout.predictor != predictor::horizontal) return;
  with_sample_width(layout, [&](auto sample) { apply_rows<decltype(sample)>(layout, data); });
}

}  // namespace tilestream::codec
