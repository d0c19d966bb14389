// median: the middle sample of a K x K square per channel, 'nearest' borders
// (scipy.ndimage.median_filter as skimage.filters.median calls it; see op.hpp).
#include "ops/median.hpp"

#include <algorithm>
#include <string>

#include "ops/op_table.hpp"
#include "ops/pixels.hpp"

namespace tilestream::ops::detail {

Median::Median(std::uint32_t size) : Op("median:size=" + std::to_string(size)), size_(size) {}

ImageShape Median::output_shape(const ImageShape& in) const {
  require(in.height > 0 && in.width > 0 && in.samples > 0, "empty input image");
  return in;
}

void Median::run_cpu(const ConstTileView& in, const ImageShape& in_shape, const TileView& out) const {
  check_tiles(*this, in, in_shape, out);
  visit_dtype(in_shape.dtype, [&](auto sample) { run<decltype(sample)>(in, in_shape, out); });
}

template <class S>
void Median::run(const ConstTileView& in, const ImageShape& shape, const TileView& out) const {
  const std::uint32_t samples = shape.samples;
  const std::size_t pixel = samples * sizeof(S);
  const Box& o = out.box;
  const std::uint32_t k = size(), r = halo();
  const std::vector<std::size_t> rows =
      clamped_offsets(static_cast<std::int64_t>(o.y) - r, o.height + 2 * std::uint64_t{r}, shape.height,
                      in.box.y, in.row_stride);
  const std::vector<std::size_t> cols = clamped_offsets(
      static_cast<std::int64_t>(o.x) - r, o.width + 2 * std::uint64_t{r}, shape.width, in.box.x, pixel);
  std::vector<S> window(static_cast<std::size_t>(k) * k);
  const auto middle = window.begin() + static_cast<std::ptrdiff_t>(window.size() / 2);
  for (std::uint64_t y = 0; y < o.height; ++y) {
    std::byte* dst = out.data + y * out.row_stride;
    for (std::uint64_t x = 0; x < o.width; ++x) {
      for (std::uint32_t c = 0; c < samples; ++c) {
        std::size_t n = 0;
        for (std::uint32_t dy = 0; dy < k; ++dy) {
          const std::byte* row = in.data + rows[y + dy] + c * sizeof(S);
          for (std::uint32_t dx = 0; dx < k; ++dx) window[n++] = load<S>(row + cols[x + dx]);
        }
        std::nth_element(window.begin(), middle, window.end());
        store<S>(dst + (x * samples + c) * sizeof(S), *middle);
      }
    }
  }
}

std::unique_ptr<Op> make_median(const OpParams& params) {
  params.allow_only({"size"}, "median:size=K");
  const std::uint32_t size = params.integer("size", 3, 1, 99);
  check<UsageError>(size % 2 == 1, "median: size must be odd (the square is centred on the pixel), not ",
                    size);
  return std::make_unique<Median>(size);
}

}  // namespace tilestream::ops::detail
