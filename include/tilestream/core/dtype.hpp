// Sample types that tilestream images and arrays hold.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tilestream {

// float16 is IEEE binary16, held as its bit pattern (core/float16.hpp converts it).
enum class DType : std::uint8_t { uint8, uint16, int8, int16, float32, uint32, int32, float16 };

constexpr std::size_t bytes_per_sample(DType t) {
  switch (t) {
    case DType::uint8: case DType::int8: return 1;
    case DType::uint16: case DType::int16: case DType::float16: return 2;
    case DType::float32: case DType::uint32: case DType::int32: return 4;
  }
  return 1;
}
constexpr bool is_signed(DType t) { return t == DType::int8 || t == DType::int16 || t == DType::int32; }
constexpr bool is_float(DType t) { return t == DType::float32 || t == DType::float16; }
// The type codecs see for TIFF samples: integers by their unsigned type of the same width (codecs work
// on bit patterns and only need the width), floats as themselves (the floating-point predictor needs to
// know it is one).
constexpr DType storage_type(DType t) {
  if (is_float(t)) return t;
  switch (bytes_per_sample(t)) {
    case 1: return DType::uint8;
    case 2: return DType::uint16;
    default: return DType::uint32;
  }
}
constexpr const char* to_string(DType t) {
  switch (t) {
    case DType::uint8: return "uint8";
    case DType::uint16: return "uint16";
    case DType::int8: return "int8";
    case DType::int16: return "int16";
    case DType::float32: return "float32";
    case DType::uint32: return "uint32";
    case DType::int32: return "int32";
    case DType::float16: return "float16";
  }
  return "?";
}

// Every DType, for tables and loops over them.
inline constexpr DType all_dtypes[] = {DType::uint8,   DType::uint16, DType::int8,  DType::int16,
                                       DType::float32, DType::uint32, DType::int32, DType::float16};

}  // namespace tilestream
