// gaussian: separable Gaussian blur per channel, scipy.ndimage.gaussian_filter's passes and
// arithmetic (y pass, then x pass, 'nearest' borders), with skimage's conversions around it (op.hpp).
#include "ops/gaussian.hpp"

#include <cmath>
#include <limits>

#include "ops/op_table.hpp"
#include "ops/pixels.hpp"

namespace tilestream::ops::detail {
namespace {

// skimage's img_as_ubyte / img_as_uint of a float64 in [0, 1]: rint(g * M) (half to even), clamped.
template <class S, class T>
S to_sample(T g) {
  if constexpr (std::is_floating_point_v<S>) {
    return g;
  } else {
    constexpr double max = std::numeric_limits<S>::max();
    return static_cast<S>(std::clamp(std::nearbyint(g * max), 0.0, max));
  }
}

}  // namespace

Gaussian::Gaussian(double sigma)
    : Op("gaussian:sigma=" + format_number(sigma)),
      sigma_(sigma),
      radius_(gaussian_radius(sigma)),
      weights_(gaussian_weights(sigma)) {}

ImageShape Gaussian::output_shape(const ImageShape& in) const {
  require(is_filter_dtype(in.dtype), filter_dtype_refusal(in.dtype));
  require(in.height > 0 && in.width > 0 && in.samples > 0, "empty input image");
  return in;
}

void Gaussian::run_cpu(const ConstTileView& in, const ImageShape& in_shape, const TileView& out) const {
  check_tiles(*this, in, in_shape, out);
  visit_filter_dtype(in_shape.dtype, [&](auto sample) { run<decltype(sample)>(in, in_shape, out); });
}

template <class S>
void Gaussian::run(const ConstTileView& in, const ImageShape& shape, const TileView& out) const {
  // T: what skimage filters in (float64 after img_as_float, float32 with preserve_range).
  using T = std::conditional_t<std::is_floating_point_v<S>, float, double>;
  const std::uint32_t samples = shape.samples;
  const Box& o = out.box;
  const auto r = static_cast<std::int64_t>(radius_);
  const double* w = weights_.data();
  const auto value = [](const std::byte* p) -> double {
    if constexpr (std::is_floating_point_v<S>) {
      return static_cast<double>(load<S>(p));
    } else {
      return unit_float(load<S>(p));
    }
  };

  // y pass: rows of the output box, every column of the input tile (the x pass needs them all).
  const std::uint64_t band_width = in.box.width;
  const std::size_t band_row = band_width * samples;
  std::vector<T> band(o.height * band_row);
  const std::vector<std::size_t> rows =
      clamped_offsets(static_cast<std::int64_t>(o.y) - r, o.height + 2 * std::uint64_t{radius_},
                      shape.height, in.box.y, in.row_stride);
  for (std::uint64_t y = 0; y < o.height; ++y) {
    const std::byte* centre = in.data + rows[y + radius_];
    T* dst = band.data() + y * band_row;
    for (std::size_t i = 0; i < band_row; ++i) {
      const std::size_t at = i * sizeof(S);
      double acc = value(centre + at) * w[0];
      for (std::int64_t d = r; d >= 1; --d) {
        const double sum =
            value(in.data + rows[y + radius_ - d] + at) + value(in.data + rows[y + radius_ + d] + at);
        acc += sum * w[d];
      }
      dst[i] = static_cast<T>(acc);
    }
  }

  // x pass: columns clamped to the image, taken relative to the band (the input tile's columns).
  const std::vector<std::size_t> cols =
      clamped_offsets(static_cast<std::int64_t>(o.x) - r, o.width + 2 * std::uint64_t{radius_}, shape.width,
                      in.box.x, samples);
  for (std::uint64_t y = 0; y < o.height; ++y) {
    const T* row = band.data() + y * band_row;
    std::byte* dst = out.data + y * out.row_stride;
    for (std::uint64_t x = 0; x < o.width; ++x) {
      for (std::uint32_t c = 0; c < samples; ++c) {
        double acc = static_cast<double>(row[cols[x + radius_] + c]) * w[0];
        for (std::int64_t d = r; d >= 1; --d) {
          const double sum = static_cast<double>(row[cols[x + radius_ - d] + c]) +
                             static_cast<double>(row[cols[x + radius_ + d] + c]);
          acc += sum * w[d];
        }
        const T g = static_cast<T>(acc);
        store<S>(dst + (x * samples + c) * sizeof(S), to_sample<S>(g));
      }
    }
  }
}

std::unique_ptr<Op> make_gaussian(const OpParams& params) {
  params.allow_only({"sigma"}, "gaussian:sigma=S");
  return std::make_unique<Gaussian>(params.number("sigma", 1.0, 0.0, 100.0));
}

}  // namespace tilestream::ops::detail
