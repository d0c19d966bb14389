// Sample types that tilestream images hold.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tilestream {

enum class DType : std::uint8_t { uint8, uint16 };

constexpr std::size_t bytes_per_sample(DType t) { return t == DType::uint8 ? 1 : 2; }
constexpr const char* to_string(DType t) { return t == DType::uint8 ? "uint8" : "uint16"; }

}  // namespace tilestream
