// Converting samples between dtypes, value for value (no scaling), as numpy's and CuPy's astype do.
// Only exact conversions are offered: any sample type to float32 (every uint8, int8, uint16 and int16
// value is a float32 exactly), and a type to itself. The CUDA twin is tilestream/cuda/cast.hpp.
#pragma once

#include <cstddef>
#include <span>

#include "tilestream/core/dtype.hpp"

namespace tilestream {

// Whether cast_samples converts `from` to `to`.
bool cast_supported(DType from, DType to);
// Throws UsageError naming both types unless cast_supported(from, to).
void check_cast(DType from, DType to);

// Converts src (samples of `from`) into dst (the same number of samples of `to`). Throws UsageError
// for an unsupported cast or sizes that do not match.
void cast_samples(std::span<const std::byte> src, DType from, std::span<std::byte> dst, DType to);

}  // namespace tilestream
