// IEEE 754 binary16 ("half", numpy's float16) samples: held as their 16-bit patterns, converted to
// float exactly (every half is a float) and from double rounded to nearest, ties to even, as numpy's
// astype(float16) rounds (npy_double_to_half: one rounding, no detour through float). The functions
// are plain integer arithmetic, so the CPU ops and their CUDA twins share them and agree bit for bit.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define TILESTREAM_HOST_DEVICE __host__ __device__
#else
#define TILESTREAM_HOST_DEVICE
#endif

namespace tilestream {

// The float a half's bits stand for (exact; NaN payloads kept in the high mantissa bits).
TILESTREAM_HOST_DEVICE inline float float16_to_float(std::uint16_t half) {
  const std::uint32_t sign = std::uint32_t{half & 0x8000u} << 16;
  const std::uint32_t exponent = (half >> 10) & 0x1fu;
  std::uint32_t mantissa = half & 0x3ffu;
  std::uint32_t bits = 0;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {  // subnormal: mantissa * 2^-24, normalised for float
    std::uint32_t shifts = 0;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      ++shifts;
    }
    bits = sign | ((113 - shifts) << 23) | ((mantissa & 0x3ffu) << 13);
  }
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// The half nearest to `value`, ties to even; beyond the largest half (65504) by half an ulp or more,
// infinity; NaN stays NaN (its payload's top bits kept, never turned into infinity).
TILESTREAM_HOST_DEVICE inline std::uint16_t float16_from_double(double value) {
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  const auto sign = static_cast<std::uint16_t>((bits >> 48) & 0x8000u);
  const std::uint64_t exponent = (bits >> 52) & 0x7ffu;
  const std::uint64_t mantissa = bits & 0xfffffffffffffull;
  if (exponent == 0x7ff) {
    if (mantissa == 0) return static_cast<std::uint16_t>(sign | 0x7c00u);
    const auto payload = static_cast<std::uint16_t>(mantissa >> 42);
    return static_cast<std::uint16_t>(sign | 0x7c00u | (payload != 0 ? payload : 1u));
  }
  const std::int64_t e = static_cast<std::int64_t>(exponent) - 1023;  // value = 1.m * 2^e
  if (e > 15) return static_cast<std::uint16_t>(sign | 0x7c00u);
  if (e >= -14) {  // normal range: keep 10 of the 52 mantissa bits
    std::uint64_t kept = mantissa >> 42;
    const std::uint64_t rest = mantissa & ((std::uint64_t{1} << 42) - 1), half_way = std::uint64_t{1} << 41;
    if (rest > half_way || (rest == half_way && (kept & 1u) != 0)) ++kept;
    // A carry out of the mantissa moves to the next exponent (up to infinity), as the encoding adds.
    return static_cast<std::uint16_t>(sign + ((static_cast<std::uint64_t>(e + 15) << 10) + kept));
  }
  // Subnormal halves: units of 2^-24. The significand (53 bits, implicit one set) shifted right by
  // 28 - e; below 2^-25 everything rounds to zero.
  if (exponent == 0 || e < -26) return sign;
  const std::uint64_t significand = mantissa | (std::uint64_t{1} << 52);
  const auto shift = static_cast<unsigned>(28 - e);  // 43 .. 54
  std::uint64_t units = significand >> shift;
  const std::uint64_t rest = significand & ((std::uint64_t{1} << shift) - 1), half_way = std::uint64_t{1} << (shift - 1);
  if (rest > half_way || (rest == half_way && (units & 1u) != 0)) ++units;
  return static_cast<std::uint16_t>(sign | units);
}

// A half sample as a C++ type for the ops' typed code: its bits, converted explicitly. Ordered by
// IEEE's total order (-NaN < -inf < ... < -0 < +0 < ... < +inf < +NaN), the order median selects in
// on the CPU and the GPU alike.
struct Float16 {
  std::uint16_t bits = 0;
  TILESTREAM_HOST_DEVICE float to_float() const { return float16_to_float(bits); }
  TILESTREAM_HOST_DEVICE static Float16 from_double(double value) { return Float16{float16_from_double(value)}; }
  // The unsigned key whose order is the total order.
  TILESTREAM_HOST_DEVICE std::uint16_t order_key() const {
    return static_cast<std::uint16_t>((bits & 0x8000u) != 0 ? ~bits : (bits | 0x8000u));
  }
  TILESTREAM_HOST_DEVICE friend bool operator<(Float16 a, Float16 b) { return a.order_key() < b.order_key(); }
};

}  // namespace tilestream
