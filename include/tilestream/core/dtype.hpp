// Sample types that tilestream images hold.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tilestream {

enum class DType : std::uint8_t { uint8, uint16, int8, int16 };

constexpr std::size_t bytes_per_sample(DType t) {
  return (t == DType::uint8 || t == DType::int8) ? 1 : 2;
}
constexpr bool is_signed(DType t) { return t == DType::int8 || t == DType::int16; }
// The unsigned type of the same width: codecs work on bit patterns and only need the width.
constexpr DType storage_type(DType t) { return bytes_per_sample(t) == 1 ? DType::uint8 : DType::uint16; }
constexpr const char* to_string(DType t) {
  switch (t) {
    case DType::uint8: return "uint8";
    case DType::uint16: return "uint16";
    case DType::int8: return "int8";
    case DType::int16: return "int16";
  }
  return "?";
}

}  // namespace tilestream
