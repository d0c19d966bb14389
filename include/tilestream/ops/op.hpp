// Image operations: one documented semantic per op (formula, dtypes, border mode, rounding), a CPU
// implementation (src/ops/<op>.cpp) and a CUDA twin beside it (src/ops/<op>.cu, run through
// ops/device.hpp) written against this header. Each op states the input area an output area needs
// (its halo), so tiled processing reads tiles grown by the halo and gives bit for bit the output of
// processing the whole image at once.
//
// Semantics frozen for the CUDA twins.
//
// Common rules
// - Images are interleaved (y, x, c), C order, native byte order. Ops work per channel unless said.
// - Borders are ALWAYS those of the whole image (ImageShape), never of a tile: a tile's neighbours
//   outside the image are replaced by the op's border rule applied at the true image edge. Because
//   every op below is a pure function of the input pixels around an output pixel, computed in a fixed
//   order of floating-point operations, tiled output equals whole-image output bit for bit.
// - "img_as_float" of an integer sample I of an unsigned type with maximum M (255, 65535) is the
//   double I * (1.0 / M) (a multiplication by the rounded reciprocal, as skimage does, not I / M).
// - No fused multiply-add: every formula below is a sequence of IEEE operations rounded one by one
//   (src/ops is compiled with -ffp-contract=off; a CUDA twin must use __dmul_rn / __dadd_rn (or
//   __fmul_rn / __fadd_rn) or -fmad=false where it wants bit equality with the CPU).
//
// The ops (spec syntax in make_op; reference = what the Python tests compare with). Their table,
// and how to add one, is src/ops/op_table.hpp.
//
// absorbance          uint8, any samples -> float32, same samples; halo 0.
//   out = float32(-ln(max(I, 1) / 255)), the float32 nearest to the double
//   -log(double(max(I, 1)) / 255.0): absorbance_lut()[I] (a twin should use that table).
//   This is cucim.core.operations.color.image_to_absorbance(image, source_intensity=255) (natural
//   log, integer input clipped to [1, 255]); cucim computes it in float32 (-logf(float(I) / 255.0f)),
//   which differs from the table by at most 1 float32 ulp (relative <= 3e-7). I = 255 gives -0.0f.
//
// sobel               uint8 | uint16 | float32, any samples -> float32, same samples; halo 1.
//   skimage.filters.sobel(img[..., c]) (mode 'reflect' = half-sample symmetric, which for radius 1
//   repeats the edge pixel: neighbour index -1 reads 0, index n reads n-1). With T = double for
//   integer input (a = img_as_float(I)) and T = float for float32 input (a = the value), and a(dy,dx)
//   the neighbour at offset (dy, dx), each sum accumulated in double from 0.0 in exactly this order:
//     gy_d = -0.25*a(-1,-1) + -0.5*a(-1,0) + -0.25*a(-1,1) + 0.25*a(1,-1) + 0.5*a(1,0) + 0.25*a(1,1)
//     gx_d = -0.25*a(-1,-1) + 0.25*a(-1,1) + -0.5*a(0,-1) + 0.5*a(0,1) + -0.25*a(1,-1) + 0.25*a(1,1)
//     gy = T(gy_d); gx = T(gx_d); s = gy*gy + gx*gx (in T, left to right);
//     out = float32(sqrt(s) / sqrt(T(2)))   (sqrt correctly rounded in T)
//   (gy_d, gx_d are scipy.ndimage.convolve's sums over the non-zero weights in footprint order).
//   Equal to skimage's float64 result rounded to float32 for integer input, and to skimage's float32
//   result for float32 input.
//
// gaussian:sigma=S    uint8 | uint16 -> same type; float32 -> float32; any samples; halo
//   r = int(4.0 * S + 0.5) (truncate 4.0, as scipy). 0 < S <= 100.
//   Kernel w = gaussian_weights(S): phi[i] = exp((-0.5 / (S*S)) * double(i*i)) for i in [-r, r],
//   w[i] = phi[i] / sum, with sum numpy's pairwise summation of phi in index order (the exact scheme
//   is in gaussian_weights); equal to scipy's weights bit for bit up to S ~ 15 (above, numpy's SIMD
//   exp may differ from std::exp by an ulp). Border 'nearest' (index clamped to [0, n-1]). Two
//   separable passes, first along y then along x, each output sample of a pass computed in double as
//     acc = v[0] * w[0]; for d = r down to 1: acc += (v[-d] + v[+d]) * w[d]
//   (scipy.ndimage.correlate1d's symmetric loop) and stored in T (the intermediate of the y pass too).
//   Integer input: T = double, v = img_as_float(I), result out = uint(clamp(rint(g * M), 0, M)) with
//   rint rounding half to even: skimage.util.img_as_ubyte (img_as_uint for uint16) of
//   skimage.filters.gaussian(img, sigma=S, truncate=4.0, channel_axis=-1) (mode 'nearest').
//   float32 input: T = float, v = the value, out = the x pass's float: skimage.filters.gaussian(img,
//   sigma=S, truncate=4.0, channel_axis=-1, preserve_range=True).
//
// median:size=K       any dtype, any samples -> same; K odd, 1 <= K <= 99; halo K/2 (integer division).
//   The sample of rank (K*K)/2 (0-based) among the K x K window's samples, border 'nearest'
//   (index clamped): skimage.filters.median(img[..., c], footprint=np.ones((K, K))) (which calls
//   scipy.ndimage.median_filter with mode 'nearest'). Exact (no arithmetic). Default K = 3. float16
//   samples are ranked in IEEE's total order (-0 before +0, NaNs at the ends) on the CPU and the GPU.
//
// grayscale           uint8 | uint16 | float32, 3 samples (R, G, B) -> float32, 1 sample; halo 0.
//   skimage.color.rgb2gray: T = double for integer input (r, g, b = img_as_float), T = float for
//   float32 input; out = float32((T(0.2125) * r + T(0.7154) * g) + T(0.0721) * b) in T, left to right.
//   skimage computes `rgb @ coeffs` through BLAS, whose order is its own: results could differ by 1 ulp
//   of T before the rounding to float32 (none did on the test slides).
//
// hed                 uint8 | uint16 | float32, 3 samples (R, G, B) -> float32, 3 samples (H, E, D);
//   halo 0. skimage.color.rgb2hed (colour deconvolution into haematoxylin, eosin and DAB optical
//   densities, Ruifrok and Johnston): with M = skimage's hed_from_rgb (3 x 3 doubles, rows R, G, B,
//   columns H, E, D; src/ops/hed.hpp) and log_adjust = log(1e-6), each sample's density is
//     integer input: od = log(max(img_as_float(I), 1e-6)) / log_adjust, in double;
//     float32 input: od = double(float32(log(max(v, float32(1e-6))))) / log_adjust (skimage takes the
//       log in float32 and divides in double; NaN stays NaN);
//   then s_j = (od_R * M[0][j] + od_G * M[1][j]) + od_B * M[2][j] in double, left to right, and
//   out_j = float32(s_j <= 0 ? 0 : s_j) (np.maximum(s, 0): NaN stays NaN, -0 becomes +0).
//   log is std::log in double on the CPU and CUDA's double log on the device: each is within 1 ulp,
//   but they are not the same function (on an H200 with CUDA 13.0 and glibc 2.39 they differ in the
//   last bit for 1 of the 256 uint8 densities and 188 of the 65536 uint16 ones). So the CUDA twin is
//   - uint8: equal bit for bit, by construction: both read od from one table (hed_density_uint8);
//   - float32: equal bit for bit where the logs rounded to float32 agree, which they did for every
//     float32 from float32(1e-6) up (1.24e9 values) on that machine;
//   - uint16: equal bit for bit except where a density 1 ulp (of a double) off moves a stain across a
//     float32 rounding boundary: then 1 float32 ulp off. Not seen in the tests, nor in 6.8e7 output
//     samples of random pixels holding one such density nudged by 1 ulp.
//   Against skimage: numpy's log is its own SIMD code on AVX-512 machines (within 1 ulp in double,
//   up to 4 ulp in float32) and `@` runs through BLAS, yet measured, the output equals skimage's
//   float64 result rounded to float32 for every uint8 RGB triple and 10^6 random uint16 pixels;
//   float32 input (numpy's float32 log) differs by up to 1.2e-7 (tests/python/test_ops_skimage.py).
//
// downsample2x        any dtype, any samples -> same; output ceil(h/2) x ceil(w/2); halo 0 (the
//   input box of an output box is the 2x box clipped to the image). Each output sample is the mean of
//   the 2x2 block it covers, at odd edges of the samples that exist (2x1, 1x2, 1x1): integers as
//   floor(mean + 1/2) from the exact integer sum (int64: 32-bit samples too), float32 as
//   float32(double sum / count), float16 as the half nearest to double sum / count (ties to even, one
//   rounding: numpy's astype(float16) of the float64 mean). The rule of `tilestream convert --ome`'s
//   built pyramid levels (same code).
//
// cast:dtype=float32  any dtype, any samples -> float32, same samples; halo 0. numpy's
//   astype(float32): exact for uint8, int8, uint16, int16 and float16; uint32 and int32 rounded to the
//   nearest float32, ties to even. `convert --dtype float32` runs it.
//
// The new sample types (uint32, int32, float16) and 1-bit images (read as uint8) go through median,
// downsample2x and cast; sobel, gaussian, grayscale and hed refuse them by name, pointing at
// cast:dtype=float32; absorbance takes uint8 only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tilestream/core/dtype.hpp"

namespace tilestream::ops {

// The size and sample type of a whole image (an op's input or output).
struct ImageShape {
  std::uint64_t height = 0, width = 0;
  std::uint32_t samples = 0;
  DType dtype = DType::uint8;
  std::size_t pixel_bytes() const { return samples * bytes_per_sample(dtype); }
  std::size_t size_bytes() const { return static_cast<std::size_t>(height * width) * pixel_bytes(); }
  bool operator==(const ImageShape&) const = default;
};

// A rectangle of pixels of an image: rows [y, y + height), columns [x, x + width).
struct Box {
  std::uint64_t y = 0, x = 0, height = 0, width = 0;
  bool operator==(const Box&) const = default;
  bool empty() const { return height == 0 || width == 0; }
};

// Interleaved (y, x, c) pixels covering `box` of an image, rows `row_stride` bytes apart. Views do
// not own their memory.
struct TileView {
  std::byte* data = nullptr;
  std::size_t row_stride = 0;
  Box box;
};
struct ConstTileView {
  const std::byte* data = nullptr;
  std::size_t row_stride = 0;
  Box box;
};

// One configured operation. Immutable; every method is thread-safe.
class Op {
 public:
  virtual ~Op() = default;
  Op(const Op&) = delete;
  Op& operator=(const Op&) = delete;

  // Canonical spec, parseable by make_op: "sobel", "gaussian:sigma=2.5", "median:size=5".
  const std::string& spec() const { return spec_; }
  // The op's name, the spec up to its parameters: "gaussian". It names the op's entry in the table
  // of ops (its factory, help text and CUDA twin).
  std::string_view name() const;

  // Input pixels needed on each side of an output pixel (in input pixels).
  virtual std::uint32_t halo() const = 0;
  // The output image for input `in`; UsageError naming the op when it does not take that input.
  virtual ImageShape output_shape(const ImageShape& in) const = 0;
  // The input box that output box `out` needs: `out` grown by halo() and clipped to the input image,
  // or for downsample2x the 2x box clipped. `out` must lie inside output_shape(in).
  virtual Box input_box(const Box& out, const ImageShape& in) const;
  // Computes the pixels of out.box of the output from `in`, which covers exactly
  // input_box(out.box, in_shape) of the input image `in_shape`. `out` must not overlap `in`.
  virtual void run_cpu(const ConstTileView& in, const ImageShape& in_shape, const TileView& out) const = 0;

 protected:
  explicit Op(std::string spec) : spec_(std::move(spec)) {}
  // Throws UsageError "<spec>: <message>" unless `ok`.
  void require(bool ok, const std::string& message) const;

 private:
  std::string spec_;
};

// Parses one op: "absorbance", "sobel", "gaussian:sigma=S", "median[:size=K]", "grayscale", "hed",
// "downsample2x". Parameters are "name=value" after a colon, separated by commas. Throws UsageError
// listing the ops and their parameters for anything else.
std::unique_ptr<Op> make_op(std::string_view spec);
// One line per op: its spec syntax and what it does (for --help and error messages).
std::string describe_ops();

// Tables and kernels that the CPU ops use and that CUDA twins must use too, so that both compute
// with the very same constants.
// absorbance: entry I is float32(-ln(max(I, 1) / 255)).
const std::array<float, 256>& absorbance_lut();
// gaussian: the radius int(4.0 * sigma + 0.5).
std::uint32_t gaussian_radius(double sigma);
// gaussian: w[0..r] for offsets 0..r (the kernel is symmetric), as scipy's _gaussian_kernel1d
// computes them (see the header comment).
std::vector<double> gaussian_weights(double sigma);

}  // namespace tilestream::ops
