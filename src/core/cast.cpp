// Sample conversions to float32: one template per source type, chosen by a switch.
#include "tilestream/core/cast.hpp"

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "tilestream/core/error.hpp"
#include "tilestream/core/float16.hpp"

namespace tilestream {
namespace {

template <class From>
void to_float(std::span<const std::byte> src, std::span<std::byte> dst) {
  const std::size_t n = src.size() / sizeof(From);
  for (std::size_t i = 0; i < n; ++i) {
    From value;
    std::memcpy(&value, src.data() + i * sizeof(From), sizeof(From));
    float f;
    if constexpr (std::is_same_v<From, Float16>) {
      f = value.to_float();
    } else {
      f = static_cast<float>(value);  // 32-bit integers: rounded to nearest, ties to even
    }
    std::memcpy(dst.data() + i * sizeof(float), &f, sizeof(float));
  }
}

}  // namespace

bool cast_supported(DType from, DType to) { return from == to || to == DType::float32; }

void check_cast(DType from, DType to) {
  check<UsageError>(cast_supported(from, to), "cannot convert ", to_string(from), " samples to ", to_string(to),
                    " (supported: any type to float32)");
}

void cast_samples(std::span<const std::byte> src, DType from, std::span<std::byte> dst, DType to) {
  check_cast(from, to);
  const std::size_t samples = src.size() / bytes_per_sample(from);
  check<UsageError>(src.size() % bytes_per_sample(from) == 0 && dst.size() == samples * bytes_per_sample(to),
                    "cast_samples: ", src.size(), " bytes of ", to_string(from), " do not match ", dst.size(),
                    " bytes of ", to_string(to));
  if (from == to) {
    if (!src.empty()) std::memcpy(dst.data(), src.data(), src.size());
    return;
  }
  switch (from) {
    case DType::uint8: return to_float<std::uint8_t>(src, dst);
    case DType::int8: return to_float<std::int8_t>(src, dst);
    case DType::uint16: return to_float<std::uint16_t>(src, dst);
    case DType::int16: return to_float<std::int16_t>(src, dst);
    case DType::uint32: return to_float<std::uint32_t>(src, dst);
    case DType::int32: return to_float<std::int32_t>(src, dst);
    case DType::float16: return to_float<Float16>(src, dst);
    case DType::float32: break;
  }
}

}  // namespace tilestream
