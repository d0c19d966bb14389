// ArraySpec: the chunk grid and the checks that keep a spec writable by us and readable by others.
#include <algorithm>
#include <cmath>
#include <limits>

#include "tilestream/core/error.hpp"
#include "tilestream/zarr/array.hpp"
#include "zarr/compressor.hpp"

namespace tilestream::zarr {

std::vector<std::uint64_t> ArraySpec::grid_shape() const {
  const std::vector<std::uint64_t>& block = block_shape();
  std::vector<std::uint64_t> grid(shape.size());
  for (std::size_t d = 0; d < shape.size(); ++d)
    grid[d] = block[d] == 0 ? 0 : (shape[d] + block[d] - 1) / block[d];
  return grid;
}

namespace {
std::string dims(const std::vector<std::uint64_t>& v) {
  std::string text = "[";
  for (std::size_t i = 0; i < v.size(); ++i) text += (i ? ", " : "") + std::to_string(v[i]);
  return text + "]";
}
}  // namespace

void ArraySpec::validate() const {
  check<UsageError>(zarr_format == 2 || zarr_format == 3, "zarr_format must be 2 or 3, not ", zarr_format);
  const std::size_t rank = shape.size();
  check<UsageError>(rank >= 1, "array rank must be at least 1");
  check<UsageError>(chunk_shape.size() == rank, "chunk shape ", dims(chunk_shape),
                    " has not the rank of shape ", dims(shape));
  check<UsageError>(shard_shape.empty() || shard_shape.size() == rank, "shard shape ", dims(shard_shape),
                    " has not the rank of shape ", dims(shape));
  for (std::size_t d = 0; d < rank; ++d) {
    check<UsageError>(shape[d] > 0, "array shape ", dims(shape), " has a zero dimension");
    check<UsageError>(chunk_shape[d] > 0, "chunk shape ", dims(chunk_shape), " has a zero dimension");
    if (!shard_shape.empty()) {
      check<UsageError>(shard_shape[d] > 0, "shard shape ", dims(shard_shape), " has a zero dimension");
      check<UsageError>(shard_shape[d] % chunk_shape[d] == 0, "shard shape ", dims(shard_shape),
                        " is not a multiple of chunk shape ", dims(chunk_shape));
    }
  }
  // Sizes in bytes must stay far from 64-bit overflow (element counts, shard indexes, offsets).
  constexpr std::uint64_t max_block_bytes = std::uint64_t{1} << 48;
  for (const std::vector<std::uint64_t>* block : {&chunk_shape, &shard_shape}) {
    std::uint64_t bytes = bytes_per_sample(dtype);
    for (const std::uint64_t side : *block) {
      check<UsageError>(side <= max_block_bytes / bytes, block == &chunk_shape ? "chunk" : "shard", " shape ",
                        dims(*block), " of ", bytes_per_sample(dtype), "-byte samples is too large (over 2^48 bytes)");
      bytes *= side;
    }
  }
  check<UsageError>(separator == '.' || separator == '/', "chunk key separator must be '.' or '/', not '",
                    separator, "'");
  if (zarr_format == 2) {
    check<UsageError>(shard_shape.empty(), "sharding needs Zarr v3 (shard shape ", dims(shard_shape),
                      " given for a v2 array)");
    check<UsageError>(compressors.size() <= 1, "a Zarr v2 array has at most one compressor, not ",
                      compressors.size());
    check<UsageError>(transpose_order.empty(), "the transpose codec needs Zarr v3");
  }
  if (!transpose_order.empty()) {
    std::vector<int> sorted = transpose_order;
    std::sort(sorted.begin(), sorted.end());
    bool permutation = sorted.size() == rank;
    for (std::size_t i = 0; permutation && i < rank; ++i) permutation = sorted[i] == static_cast<int>(i);
    check<UsageError>(permutation, "transpose order must be a permutation of 0..", rank - 1);
  }
  check<UsageError>(dimension_names.empty() || dimension_names.size() == rank, "dimension_names has ",
                    dimension_names.size(), " names for an array of rank ", rank);
  for (const CompressorSpec& c : compressors) {
    const CompressorCodec* codec = find_compressor(c.name);
#if !TILESTREAM_WITH_BLOSC
    check<UsageError>(c.name != "blosc", "blosc support was not built (libblosc not found at build time)");
#endif
    check<UsageError>(codec != nullptr, "unknown Zarr compressor '", c.name, "'");
    check<UsageError>(zarr_format == 2 ? codec->in_v2 : codec->in_v3, "compressor '", c.name,
                      "' is not available in Zarr v", zarr_format);
    check<UsageError>(
        !codec->has_level || c.level < 0 || (c.level >= codec->min_level && c.level <= codec->max_level),
        c.name, " level must be ", codec->min_level, "..", codec->max_level, ", not ", c.level);
  }
  if (!is_float(dtype)) {
    const double bits = 8.0 * static_cast<double>(bytes_per_sample(dtype));
    const double lo = is_signed(dtype) ? -std::exp2(bits - 1) : 0;
    const double hi = is_signed(dtype) ? std::exp2(bits - 1) - 1 : std::exp2(bits) - 1;
    check<UsageError>(std::isfinite(fill_value) && fill_value == std::floor(fill_value) && fill_value >= lo &&
                          fill_value <= hi,
                      "fill_value ", fill_value, " is not a ", to_string(dtype), " value");
  }
}

}  // namespace tilestream::zarr
