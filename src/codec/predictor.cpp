// Horizontal differencing per row and per sample, on 8- or 16-bit samples with wraparound.
#include "codec/predictor.hpp"

#include <cstdint>
#include <cstring>

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
      const auto diff = static_cast<T>(load<T>(row + i * sizeof(T)) - load<T>(row + (i - stride) * sizeof(T)));
      store<T>(row + i * sizeof(T), diff);
    }
  }
}

}  // namespace

void check_predictor(std::uint16_t value) {
  if (value == predictor::none || value == predictor::horizontal) return;
  if (value == predictor::floating_point) {
    throw UnsupportedError("predictor 3 (floating point) is not supported");
  }
  throw UnsupportedError(concat("predictor ", value, " is not supported"));
}

void undo_predictor(const TileLayout& layout, std::span<std::byte> data) {
  check_predictor(layout.predictor);
  if (layout.predictor != predictor::horizontal) return;
  if (bytes_per_sample(layout.dtype) == 1) {
    undo_rows<std::uint8_t>(layout, data);
  } else {
    undo_rows<std::uint16_t>(layout, data);
  }
}

void apply_predictor(const TileLayout& layout, std::span<std::byte> data) {
  check_predictor(layout.predictor);
  if (layout.predictor != predictor::horizontal) return;
  if (bytes_per_sample(layout.dtype) == 1) {
    apply_rows<std::uint8_t>(layout, data);
  } else {
    apply_rows<std::uint16_t>(layout, data);
  }
}

}  // namespace tilestream::codec
