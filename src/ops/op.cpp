// What every op shares: names, the default input box (the output box grown by the halo and clipped
// to the image), tile checks, clamped neighbour offsets, and the constants the CPU ops and their CUDA
// twins both use (absorbance table, Gaussian kernel).
#include "tilestream/ops/op.hpp"

#include <cmath>

#include "ops/pixels.hpp"

namespace tilestream::ops {

std::string_view Op::name() const { return std::string_view(spec_).substr(0, spec_.find(':')); }

void Op::require(bool ok, const std::string& message) const { check<UsageError>(ok, spec_, ": ", message); }

Box Op::input_box(const Box& out, const ImageShape& in) const {
  const std::uint64_t r = halo();
  const std::uint64_t y0 = out.y > r ? out.y - r : 0;
  const std::uint64_t x0 = out.x > r ? out.x - r : 0;
  const std::uint64_t y1 = std::min(in.height, out.y + out.height + r);
  const std::uint64_t x1 = std::min(in.width, out.x + out.width + r);
  return {y0, x0, y1 - y0, x1 - x0};
}

namespace detail {

void check_tiles(const Op& op, const ConstTileView& in, const ImageShape& in_shape, const TileView& out) {
  const ImageShape out_shape = op.output_shape(in_shape);
  const Box& o = out.box;
  check<UsageError>(!o.empty() && o.y + o.height <= out_shape.height && o.x + o.width <= out_shape.width,
                    op.spec(), ": output box ", o.width, "x", o.height, "+", o.x, "+", o.y,
                    " is empty or not inside the ", out_shape.width, "x", out_shape.height, " output");
  const Box want = op.input_box(o, in_shape);
  check<UsageError>(in.box == want, op.spec(), ": input tile ", in.box.width, "x", in.box.height, "+",
                    in.box.x, "+", in.box.y, " is not the box the output needs, ", want.width, "x",
                    want.height, "+", want.x, "+", want.y);
  check<UsageError>(in.data != nullptr && out.data != nullptr, op.spec(), ": tile without memory");
  check<UsageError>(in.row_stride >= in.box.width * in_shape.pixel_bytes() &&
                        out.row_stride >= o.width * out_shape.pixel_bytes(),
                    op.spec(), ": row stride shorter than a row");
}

std::vector<std::size_t> clamped_offsets(std::int64_t first, std::size_t count, std::uint64_t extent,
                                         std::uint64_t tile_first, std::size_t step) {
  std::vector<std::size_t> offsets(count);
  const auto last = static_cast<std::int64_t>(extent) - 1;
  for (std::size_t i = 0; i < count; ++i) {
    const std::int64_t index = std::clamp<std::int64_t>(first + static_cast<std::int64_t>(i), 0, last);
    offsets[i] = (static_cast<std::uint64_t>(index) - tile_first) * step;
  }
  return offsets;
}

}  // namespace detail

const std::array<float, 256>& absorbance_lut() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int i = 0; i < 256; ++i)
      t[static_cast<std::size_t>(i)] = static_cast<float>(-std::log(std::max(i, 1) / 255.0));
    return t;
  }();
  return table;
}

// scipy's int(truncate * sigma + 0.5), truncation included (sigma > 0).
std::uint32_t gaussian_radius(double sigma) {
  return static_cast<std::uint32_t>(4.0 * sigma + 0.5);  // NOLINT(bugprone-incorrect-roundings)
}

namespace {

// numpy's pairwise summation (np.add.reduce over a contiguous float64 array), which scipy's
// _gaussian_kernel1d uses for the kernel's sum: below 8 values one running sum; up to 128 eight
// running sums combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)) and then the rest added in order;
// above, the two halves (split at a multiple of 8) summed recursively.
double pairwise_sum(const double* a, std::size_t n) {
  if (n < 8) {
    double sum = 0.;
    for (std::size_t i = 0; i < n; ++i) sum += a[i];
    return sum;
  }
  if (n <= 128) {
    double r[8];
    for (std::size_t j = 0; j < 8; ++j) r[j] = a[j];
    std::size_t i = 8;
    for (; i < n - n % 8; i += 8)
      for (std::size_t j = 0; j < 8; ++j) r[j] += a[i + j];
    double sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) sum += a[i];
    return sum;
  }
  std::size_t half = n / 2;
  half -= half % 8;
  return pairwise_sum(a, half) + pairwise_sum(a + half, n - half);
}

}  // namespace

std::vector<double> gaussian_weights(double sigma) {
  const std::uint32_t r = gaussian_radius(sigma);
  const double scale = -0.5 / (sigma * sigma);
  std::vector<double> phi(2 * static_cast<std::size_t>(r) + 1);
  for (std::size_t i = 0; i < phi.size(); ++i) {
    const double x = static_cast<double>(i) - static_cast<double>(r);
    phi[i] = std::exp(scale * (x * x));
  }
  const double sum = pairwise_sum(phi.data(), phi.size());
  std::vector<double> weights(static_cast<std::size_t>(r) + 1);
  for (std::size_t d = 0; d <= r; ++d) weights[d] = phi[r + d] / sum;
  return weights;
}

}  // namespace tilestream::ops
