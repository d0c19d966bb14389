// Sample types that tilestream images and arrays hold.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tilestream {

enum class DType : std::uint8_t { uint8, uint16, int8, int16, float32 };

constexpr std::size_t bytes_per_sample(DType t) {
  switch (t) {
    case DType::uint8: case DType::int8: return 1;
    case DType::uint16: case DType::int16: return 2;
    case DType::float32: return 4;
  }
  return 1;
}
constexpr bool is_signed(DType t) { return t == DType::int8 || t == DType::int16; }
constexpr bool is_float(DType t) { return t == DType::float32; }
// The type codecs see for TIFF samples: integers by their unsigned type of the same width (codecs work
// on bit patterns and only need the width), float32 as itself (the floating-point predictor needs to
// know it is one).
constexpr DType storage_type(DType t) {
  return t == DType::float32 ? DType::float32 : bytes_per_sample(t) == 1 ? DType::uint8 : DType::uint16;
}
constexpr const char* to_string(DType t) {
  switch (t) {
    case DType::uint8: return "uint8";
    case DType::uint16: return "uint16";
    case DType::int8: return "int8";
    case DType::int16: return "int16";
    case DType::float32: return "float32";
  }
  return "?";
}

}  // namespace tilestream
