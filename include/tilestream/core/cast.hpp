// Converting samples between dtypes, value for value (no scaling), as numpy's and CuPy's astype do.
// Offered: any sample type to float32, and a type to itself. Every uint8, int8, uint16, int16 and
// float16 value is a float32 exactly; uint32 and int32 values above 2^24 in magnitude are rounded to
// the nearest float32, ties to even, as numpy's astype(float32) rounds. The CUDA twin is
// src/ops/cast.cu.
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
