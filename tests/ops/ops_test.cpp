// The ops one by one: spec parsing and its errors, halos, output shapes and the inputs each op
// refuses, input boxes, and small images whose results are worked out by hand (or are scipy's
// own constants, for the Gaussian kernel).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "tilestream/core/error.hpp"
#include "tilestream/ops/chain.hpp"
#include "tilestream/ops/op.hpp"

namespace tilestream::ops {
namespace {

// A whole image held in memory, for running one op on all of it.
template <class T>
struct Image {
  ImageShape shape;
  std::vector<T> pixels;
  Image(std::uint64_t h, std::uint64_t w, std::uint32_t c, DType dtype, std::vector<T> values = {})
      : shape{h, w, c, dtype}, pixels(values.empty() ? std::vector<T>(h * w * c) : std::move(values)) {}
  T at(std::uint64_t y, std::uint64_t x, std::uint32_t c = 0) const {
    return pixels[(y * shape.width + x) * shape.samples + c];
  }
  ConstTileView view() const {
    return {reinterpret_cast<const std::byte*>(pixels.data()),
            shape.width * shape.samples * sizeof(T),
            {0, 0, shape.height, shape.width}};
  }
};

template <class Out, class In>
Image<Out> run_whole(const Op& op, const Image<In>& in) {
  const ImageShape s = op.output_shape(in.shape);
  Image<Out> out(s.height, s.width, s.samples, s.dtype);
  const Box box{0, 0, s.height, s.width};
  op.run_cpu(
      in.view(), in.shape,
      TileView{reinterpret_cast<std::byte*>(out.pixels.data()), s.width * s.samples * sizeof(Out), box});
  return out;
}

void expect_usage_error(std::string_view spec, const std::string& fragment) {
  try {
    (void)make_op(spec);
    ADD_FAILURE() << spec << ": no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << spec << ": " << e.what();
  }
}

TEST(OpSpec, CanonicalSpecsAndParameters) {
  struct Case {
    const char* spec;
    const char* canonical;
    const char* name;
    std::uint32_t halo;
  };
  for (const Case& c :
       {Case{"absorbance", "absorbance", "absorbance", 0}, Case{"sobel", "sobel", "sobel", 1},
        Case{"gaussian:sigma=2.5", "gaussian:sigma=2.5", "gaussian", 10},
        Case{"gaussian:sigma=2.50", "gaussian:sigma=2.5", "gaussian", 10},
        Case{"gaussian", "gaussian:sigma=1", "gaussian", 4},
        Case{"gaussian:sigma=0.1", "gaussian:sigma=0.1", "gaussian", 0},
        Case{"gaussian:sigma=0.7", "gaussian:sigma=0.7", "gaussian", 3},
        Case{"median", "median:size=3", "median", 1},
        Case{"median:size=5", "median:size=5", "median", 2},
        Case{"median:size=1", "median:size=1", "median", 0},
        Case{"grayscale", "grayscale", "grayscale", 0}, Case{"hed", "hed", "hed", 0},
        Case{"downsample2x", "downsample2x", "downsample2x", 0},
        Case{"cast", "cast:dtype=float32", "cast", 0}, Case{"cast:dtype=float32", "cast:dtype=float32", "cast", 0}}) {
    const auto op = make_op(c.spec);
    EXPECT_EQ(op->spec(), c.canonical) << c.spec;
    EXPECT_EQ(op->name(), c.name) << c.spec;
    EXPECT_EQ(op->halo(), c.halo) << c.spec;
    EXPECT_EQ(make_op(op->spec())->spec(), op->spec()) << "canonical spec reads back";
  }
}

TEST(OpSpec, ErrorsNameTheProblem) {
  expect_usage_error("blur", "unknown op 'blur' (ops: absorbance, sobel, gaussian:sigma=S, median:size=K");
  expect_usage_error("", "unknown op");
  expect_usage_error("gaussian:sigma=0", "sigma must be a number in (0, 100]");
  expect_usage_error("gaussian:sigma=-1", "sigma must be a number");
  expect_usage_error("gaussian:sigma=101", "sigma must be a number");
  expect_usage_error("gaussian:sigma=abc", "not 'abc'");
  expect_usage_error("gaussian:sigma=nan", "sigma must be a number");
  expect_usage_error("gaussian:size=3", "op 'gaussian' has no parameter 'size' (usage: gaussian:sigma=S)");
  expect_usage_error("gaussian:", "nothing after ':'");
  expect_usage_error("gaussian:sigma", "parameters are name=value");
  expect_usage_error("gaussian:sigma=1,sigma=2", "given twice");
  expect_usage_error("median:size=4", "size must be odd");
  expect_usage_error("median:size=0", "size must be an integer from 1 to 99");
  expect_usage_error("median:size=101", "size must be an integer from 1 to 99");
  expect_usage_error("median:size=3.5", "not '3.5'");
  expect_usage_error("sobel:sigma=1", "op 'sobel' has no parameter 'sigma'");
  EXPECT_NE(describe_ops().find("median:size=K"), std::string::npos);
}

TEST(OpShape, OutputShapesAndRefusedInputs) {
  const ImageShape rgb8{203, 301, 3, DType::uint8};
  EXPECT_EQ(make_op("absorbance")->output_shape(rgb8), (ImageShape{203, 301, 3, DType::float32}));
  EXPECT_EQ(make_op("sobel")->output_shape(rgb8), (ImageShape{203, 301, 3, DType::float32}));
  EXPECT_EQ(make_op("gaussian:sigma=2")->output_shape(rgb8), rgb8);
  EXPECT_EQ(make_op("gaussian:sigma=2")->output_shape({5, 6, 3, DType::float32}),
            (ImageShape{5, 6, 3, DType::float32}));
  EXPECT_EQ(make_op("median:size=5")->output_shape({5, 6, 2, DType::int16}),
            (ImageShape{5, 6, 2, DType::int16}));
  EXPECT_EQ(make_op("grayscale")->output_shape(rgb8), (ImageShape{203, 301, 1, DType::float32}));
  EXPECT_EQ(make_op("hed")->output_shape(rgb8), (ImageShape{203, 301, 3, DType::float32}));
  EXPECT_EQ(make_op("hed")->output_shape({5, 6, 3, DType::float32}), (ImageShape{5, 6, 3, DType::float32}));
  EXPECT_EQ(make_op("downsample2x")->output_shape(rgb8), (ImageShape{102, 151, 3, DType::uint8}));
  EXPECT_EQ(make_op("downsample2x")->output_shape({1, 1, 1, DType::float32}),
            (ImageShape{1, 1, 1, DType::float32}));

  const auto refuses = [](const char* spec, const ImageShape& in, const std::string& fragment) {
    try {
      (void)make_op(spec)->output_shape(in);
      ADD_FAILURE() << spec << ": accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  refuses("absorbance", {4, 4, 3, DType::uint16}, "absorbance: needs uint8 samples, not uint16");
  refuses("sobel", {4, 4, 1, DType::int16}, "sobel: needs uint8, uint16 or float32 samples, not int16");
  refuses("gaussian:sigma=1", {4, 4, 1, DType::int8}, "gaussian:sigma=1: needs uint8, uint16 or float32");
  refuses("grayscale", {4, 4, 4, DType::uint8}, "grayscale: needs 3 samples (RGB), not 4");
  refuses("grayscale", {4, 4, 1, DType::uint8}, "needs 3 samples");
  refuses("hed", {4, 4, 4, DType::uint8}, "hed: needs 3 samples (RGB), not 4");
  refuses("hed", {4, 4, 1, DType::uint16}, "hed: needs 3 samples (RGB), not 1");
  refuses("hed", {4, 4, 3, DType::int16}, "hed: needs uint8, uint16 or float32 samples, not int16");
  refuses("hed", {4, 0, 3, DType::uint8}, "empty input image");
  refuses("median", {0, 4, 1, DType::uint8}, "empty input image");
  for (const DType wide : {DType::uint32, DType::int32, DType::float16}) {
    const std::string refusal = concat("needs uint8, uint16 or float32 samples, not ", to_string(wide),
                                       " (cast:dtype=float32 before it converts them)");
    refuses("sobel", {4, 4, 1, wide}, "sobel: " + refusal);
    refuses("gaussian:sigma=2", {4, 4, 1, wide}, "gaussian:sigma=2: " + refusal);
    refuses("grayscale", {4, 4, 3, wide}, "grayscale: " + refusal);
    refuses("hed", {4, 4, 3, wide}, "hed: " + refusal);
    refuses("absorbance", {4, 4, 3, wide}, concat("absorbance: needs uint8 samples, not ", to_string(wide)));
    EXPECT_EQ(make_op("median:size=3")->output_shape({5, 6, 2, wide}), (ImageShape{5, 6, 2, wide}));
    EXPECT_EQ(make_op("downsample2x")->output_shape({5, 6, 2, wide}), (ImageShape{3, 3, 2, wide}));
    EXPECT_EQ(make_op("cast")->output_shape({5, 6, 2, wide}), (ImageShape{5, 6, 2, DType::float32}));
  }
}

TEST(Cast, EverySampleTypeToFloat32ValueForValue) {
  const Image<std::uint8_t> u8(1, 2, 2, DType::uint8, {0, 1, 128, 255});
  EXPECT_EQ(run_whole<float>(*make_op("cast:dtype=float32"), u8).pixels, (std::vector<float>{0, 1, 128, 255}));
  const Image<std::int16_t> i16(1, 3, 1, DType::int16, {-32768, -1, 32767});
  EXPECT_EQ(run_whole<float>(*make_op("cast"), i16).pixels, (std::vector<float>{-32768, -1, 32767}));
  const Image<std::uint16_t> u16(2, 1, 1, DType::uint16, {65535, 7});
  const Image<float> f = run_whole<float>(*make_op("cast"), u16);
  EXPECT_EQ(f.pixels, (std::vector<float>{65535, 7}));
  EXPECT_EQ(make_op("cast")->output_shape({4, 5, 3, DType::int8}), (ImageShape{4, 5, 3, DType::float32}));
  const Image<std::uint32_t> u32(1, 3, 1, DType::uint32, {16777217u, 4294967295u, 3});
  EXPECT_EQ(run_whole<float>(*make_op("cast"), u32).pixels, (std::vector<float>{16777216.0f, 4294967296.0f, 3}));
  const Image<std::int32_t> i32(1, 2, 1, DType::int32, {-2147483647 - 1, -16777219});
  EXPECT_EQ(run_whole<float>(*make_op("cast"), i32).pixels, (std::vector<float>{-2147483648.0f, -16777220.0f}));
  const Image<std::uint16_t> f16(1, 3, 1, DType::float16, {0x3c00, 0xc100, 0x7bff});
  EXPECT_EQ(run_whole<float>(*make_op("cast"), f16).pixels, (std::vector<float>{1.0f, -2.5f, 65504.0f}));
  for (const char* bad : {"cast:dtype=uint16", "cast:dtype=float64", "cast:to=float32"}) {
    try {
      (void)make_op(bad);
      ADD_FAILURE() << bad << " accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("cast"), std::string::npos) << e.what();
    }
  }
}

TEST(OpShape, InputBoxesGrowByTheHaloAndClipToTheImage) {
  const ImageShape in{100, 100, 3, DType::uint8};
  const auto gaussian = make_op("gaussian:sigma=2.5");  // halo 10
  EXPECT_EQ(gaussian->input_box({0, 0, 5, 5}, in), (Box{0, 0, 15, 15}));
  EXPECT_EQ(gaussian->input_box({50, 40, 10, 20}, in), (Box{40, 30, 30, 40}));
  EXPECT_EQ(gaussian->input_box({95, 0, 5, 100}, in), (Box{85, 0, 15, 100}));
  EXPECT_EQ(make_op("sobel")->input_box({0, 99, 1, 1}, in), (Box{0, 98, 2, 2}));
  EXPECT_EQ(make_op("absorbance")->input_box({7, 8, 9, 10}, in), (Box{7, 8, 9, 10}));
  const ImageShape odd{21, 21, 1, DType::uint8};  // downsampled to 11 x 11
  const auto half = make_op("downsample2x");
  EXPECT_EQ(half->input_box({10, 10, 1, 1}, odd), (Box{20, 20, 1, 1}));
  EXPECT_EQ(half->input_box({0, 4, 5, 3}, odd), (Box{0, 8, 10, 6}));
  EXPECT_EQ(half->input_box({5, 5, 6, 6}, odd), (Box{10, 10, 11, 11}));
}

TEST(OpRun, RefusesATileThatIsNotTheInputBox) {
  const auto sobel = make_op("sobel");
  const Image<std::uint8_t> in(8, 8, 1, DType::uint8);
  std::vector<float> out(16);
  const TileView view{reinterpret_cast<std::byte*>(out.data()), 4 * sizeof(float), {2, 2, 4, 4}};
  EXPECT_THROW(sobel->run_cpu(in.view(), in.shape, view), UsageError);  // needs rows 1..6 only
  const TileView outside{reinterpret_cast<std::byte*>(out.data()), 4 * sizeof(float), {6, 6, 4, 4}};
  EXPECT_THROW(sobel->run_cpu(in.view(), in.shape, outside), UsageError);
}

TEST(Absorbance, NaturalLogOfTheTransmittedFraction) {
  const auto& lut = absorbance_lut();
  EXPECT_EQ(lut[0], static_cast<float>(std::log(255.0)));  // clipped to 1
  EXPECT_EQ(lut[1], static_cast<float>(std::log(255.0)));
  EXPECT_EQ(lut[128], static_cast<float>(-std::log(128.0 / 255.0)));
  EXPECT_EQ(lut[255], 0.0f);
  EXPECT_TRUE(std::signbit(lut[255]));  // -log(1) = -0, as cucim gives
  // cucim computes in float32 (-logf(float(I) / 255.0f)): within a few ulp of the table.
  for (int i = 1; i < 256; ++i)
    EXPECT_NEAR(lut[i], -std::log(static_cast<float>(i) / 255.0f), 3e-7 * std::max(1.0f, lut[i])) << i;
  const Image<std::uint8_t> in(1, 2, 3, DType::uint8, {0, 128, 255, 1, 2, 3});
  const Image<float> out = run_whole<float>(*make_op("absorbance"), in);
  EXPECT_EQ(out.pixels, (std::vector<float>{lut[0], lut[128], lut[255], lut[1], lut[2], lut[3]}));
}

TEST(Sobel, RampAndStepByHandWithEdgeRepeatingBorders) {
  // A horizontal ramp 0, 51, ..., 204 (img_as_float 0, 0.2, ..., 0.8): inside, gx = 0.4 and gy = 0,
  // so the magnitude is 0.4 / sqrt(2); at the left and right edges the outside neighbour repeats the
  // edge pixel (mode 'reflect' at radius 1), halving the difference.
  std::vector<std::uint8_t> ramp(25);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 5; ++x) ramp[static_cast<std::size_t>(y * 5 + x)] = static_cast<std::uint8_t>(51 * x);
  const Image<float> out =
      run_whole<float>(*make_op("sobel"), Image<std::uint8_t>(5, 5, 1, DType::uint8, ramp));
  for (int y = 0; y < 5; ++y) {
    EXPECT_NEAR(out.at(y, 0), 0.2 / std::sqrt(2.0), 1e-7);
    for (int x = 1; x < 4; ++x) EXPECT_NEAR(out.at(y, x), 0.4 / std::sqrt(2.0), 1e-7) << y << "," << x;
    EXPECT_NEAR(out.at(y, 4), 0.2 / std::sqrt(2.0), 1e-7);
  }
  // A bright pixel at the corner (0, 0) of a dark 5 x 5 float image: the outside rows and columns
  // repeat it, so (0, 0) sees it three times on one side and once on the other.
  std::vector<float> dot(25, 0.0f);
  dot[0] = 1.0f;
  const Image<float> d = run_whole<float>(*make_op("sobel"), Image<float>(5, 5, 1, DType::float32, dot));
  // (0,0): gy = -0.25*1 - 0.5*1 (row -1 repeats row 0; columns -1 and 0 both read column 0) = -0.75; gx
  // likewise.
  EXPECT_FLOAT_EQ(d.at(0, 0), static_cast<float>(std::sqrt(2 * 0.75 * 0.75) / std::sqrt(2.0)));
  // (1,1): gy = -0.25, gx = -0.25 -> 0.25.
  EXPECT_FLOAT_EQ(d.at(1, 1), 0.25f);
  // (0,1): row -1 reads row 0 and the left column is column 0, so gy = -0.25 (up-left only) and
  // gx = -0.25 (up-left) - 0.5 (left) = -0.75.
  EXPECT_FLOAT_EQ(d.at(0, 1), static_cast<float>(std::sqrt(0.25 * 0.25 + 0.75 * 0.75) / std::sqrt(2.0)));
  EXPECT_EQ(d.at(3, 3), 0.0f);
}

TEST(Gaussian, KernelIsScipys) {
  // scipy.ndimage._filters._gaussian_kernel1d(sigma, 0, radius)[radius:], bit for bit.
  EXPECT_EQ(gaussian_weights(1.0),
            (std::vector<double>{0x1.9884a307594fbp-2, 0x1.ef8eb9ad499bap-3, 0x1.ba4b99d1799abp-5,
                                 0x1.22724cb7eb269p-8, 0x1.18a9c4fd536c6p-13}));
  EXPECT_EQ(gaussian_weights(2.5),
            (std::vector<double>{0x1.46d23c3645548p-3, 0x1.2db1ab5af48bbp-3, 0x1.daa44ff00cffdp-4,
                                 0x1.3e29751c76d89p-4, 0x1.6b795631f5881p-5, 0x1.61d7f2f8c51c2p-6,
                                 0x1.2589592bde2b1p-7, 0x1.9f01e699060cep-9, 0x1.f3fdc844de712p-11,
                                 0x1.00a8053ff8116p-12, 0x1.c11200a02c7e8p-15}));
  EXPECT_EQ(gaussian_radius(2.5), 10u);
  EXPECT_EQ(gaussian_radius(0.1), 0u);
  EXPECT_EQ(gaussian_radius(0.125), 1u);  // int(4 * 0.125 + 0.5) = 1
  EXPECT_EQ(gaussian_weights(0.1), std::vector<double>{1.0});
}

TEST(Gaussian, ImpulseGivesTheOuterProductOfTheKernel) {
  std::vector<float> impulse(21 * 21, 0.0f);
  impulse[10 * 21 + 10] = 1.0f;
  const Image<float> out =
      run_whole<float>(*make_op("gaussian:sigma=1"), Image<float>(21, 21, 1, DType::float32, impulse));
  const std::vector<double> w = gaussian_weights(1.0);
  for (int dy = -4; dy <= 4; ++dy)
    for (int dx = -4; dx <= 4; ++dx) {
      // y pass stores float(w[|dy|]), the x pass multiplies that by w[|dx|] in double.
      const float want =
          static_cast<float>(static_cast<double>(static_cast<float>(w[std::abs(dy)])) * w[std::abs(dx)]);
      EXPECT_EQ(out.at(10 + dy, 10 + dx), want) << dy << "," << dx;
    }
  EXPECT_EQ(out.at(10, 15), 0.0f);
}

TEST(Gaussian, ConstantImagesStayConstantAndEdgesRepeat) {
  const Image<std::uint8_t> flat(6, 7, 3, DType::uint8, std::vector<std::uint8_t>(6 * 7 * 3, 77));
  const Image<std::uint8_t> out = run_whole<std::uint8_t>(*make_op("gaussian:sigma=3"), flat);
  EXPECT_EQ(out.pixels, flat.pixels);
  // One row 0 0 0 255 255 255 with sigma 0.5 (radius 2): symmetric around the step, 'nearest' borders.
  const Image<std::uint8_t> step(1, 6, 1, DType::uint8, {0, 0, 0, 255, 255, 255});
  const Image<std::uint8_t> s = run_whole<std::uint8_t>(*make_op("gaussian:sigma=0.5"), step);
  const std::vector<double> w = gaussian_weights(0.5);
  const auto expect = static_cast<std::uint8_t>(std::nearbyint((w[1] + w[2]) * 255.0));
  EXPECT_EQ(s.at(0, 2), expect);
  EXPECT_EQ(s.at(0, 3), 255 - expect);
  EXPECT_EQ(s.at(0, 0), 0);
  EXPECT_EQ(s.at(0, 5), 255);
}

TEST(Median, SquareWindowWithNearestBorders) {
  std::vector<std::uint8_t> ramp(25);
  for (std::size_t i = 0; i < 25; ++i) ramp[i] = static_cast<std::uint8_t>(i);
  const Image<std::uint8_t> in(5, 5, 1, DType::uint8, ramp);
  const Image<std::uint8_t> m3 = run_whole<std::uint8_t>(*make_op("median:size=3"), in);
  EXPECT_EQ(m3.at(0, 0), 1);   // 0 0 0 0 1 1 5 5 6
  EXPECT_EQ(m3.at(2, 2), 12);  // 6 7 8 11 12 13 16 17 18
  EXPECT_EQ(m3.at(4, 4), 23);  // 18 19 19 23 24 24 23 24 24 -> 18 19 19 23 23 24 24 24 24
  const Image<std::uint8_t> m5 = run_whole<std::uint8_t>(*make_op("median:size=5"), in);
  EXPECT_EQ(m5.at(2, 2), 12);
  EXPECT_EQ(m5.at(0, 0),
            2);  // 5 * row + column over rows and columns 0 0 0 1 2: nine 0s, three 1s, three 2s...
  const Image<std::uint8_t> m1 = run_whole<std::uint8_t>(*make_op("median:size=1"), in);
  EXPECT_EQ(m1.pixels, in.pixels);
  // Any dtype; channels apart.
  const Image<float> f(1, 3, 2, DType::float32, {1.5f, -1.0f, -2.0f, 7.0f, 4.0f, 0.5f});
  const Image<float> mf = run_whole<float>(*make_op("median:size=3"), f);
  EXPECT_EQ(mf.pixels, (std::vector<float>{1.5f, -1.0f, 1.5f, 0.5f, 4.0f, 0.5f}));
  // float16 (1, -2, 4) ranked by value, not by bit pattern; uint32 beyond 2^31.
  const Image<std::uint16_t> h(1, 3, 1, DType::float16, {0x3c00, 0xc000, 0x4400});
  EXPECT_EQ(run_whole<std::uint16_t>(*make_op("median:size=3"), h).pixels,
            (std::vector<std::uint16_t>{0x3c00, 0x3c00, 0x4400}));
  const Image<std::uint32_t> u(1, 3, 1, DType::uint32, {4000000000u, 7, 3000000000u});
  EXPECT_EQ(run_whole<std::uint32_t>(*make_op("median:size=3"), u).pixels,
            (std::vector<std::uint32_t>{4000000000u, 3000000000u, 3000000000u}));
}

TEST(Grayscale, Rgb2GrayWeights) {
  const Image<std::uint8_t> in(1, 4, 3, DType::uint8, {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255});
  const Image<float> out = run_whole<float>(*make_op("grayscale"), in);
  EXPECT_FLOAT_EQ(out.at(0, 0), 0.2125f);
  EXPECT_FLOAT_EQ(out.at(0, 1), 0.7154f);
  EXPECT_FLOAT_EQ(out.at(0, 2), 0.0721f);
  EXPECT_FLOAT_EQ(out.at(0, 3), 1.0f);
  const Image<std::uint16_t> in16(1, 1, 3, DType::uint16, {65535, 0, 65535});
  EXPECT_FLOAT_EQ(run_whole<float>(*make_op("grayscale"), in16).at(0, 0),
                  static_cast<float>(0.2125 + 0.0721));
  const Image<float> inf(1, 1, 3, DType::float32, {2.0f, 0.0f, 0.0f});
  EXPECT_EQ(run_whole<float>(*make_op("grayscale"), inf).at(0, 0), 2.0f * 0.2125f);
}

TEST(Hed, Rgb2HedValues) {
  // skimage.color.rgb2hed(pixels).astype(np.float32) (scikit-image 0.26, numpy 2.4), bit for bit: black
  // (every intensity floored at 1e-6: densities 1, so the stains are M's column sums, eosin's negative),
  // white (densities 0), pink, brown, blue, and red-magenta.
  const Image<std::uint8_t> in(
      2, 3, 3, DType::uint8, {0, 0, 0, 255, 255, 255, 200, 120, 180, 150, 100, 60, 80, 60, 160, 255, 0, 128});
  const Image<float> out = run_whole<float>(*make_op("hed"), in);
  EXPECT_EQ(out.pixels, (std::vector<float>{1.2101673f, 0.0f, 0.88195044f, 0.0f, 0.0f, 0.0f, 0.014253598f,
                                            0.03207877f, 0.022498809f, 0.004625483f, 0.0f, 0.13426232f,
                                            0.13036944f, 0.01808174f, 0.0f, 0.0f, 1.1107633f, 0.0f}));
  for (const float v : out.pixels) EXPECT_FALSE(std::signbit(v)) << "np.maximum(s, 0) gives +0";
  // uint16: img_as_float divides by 65535 (the last pixel is the pink one above, times 257).
  const Image<std::uint16_t> in16(1, 3, 3, DType::uint16,
                                  {0, 65535, 30000, 1000, 20000, 50000, 51400, 30840, 46260});
  EXPECT_EQ(run_whole<float>(*make_op("hed"), in16).pixels,
            (std::vector<float>{1.8439397f, 0.0f, 0.0f, 0.55110127f, 0.0f, 0.0f, 0.014253598f, 0.03207877f,
                                0.022498809f}));
  // float32: values kept (2.0 above 1 gives a negative density), the log taken in float32; NaN stays
  // NaN. skimage's float32 log is numpy's own (up to 4 ulp off), so other pixels may differ from it by
  // about 1e-7; these do not.
  const Image<float> inf(1, 4, 3, DType::float32,
                         {0.5f, 0.25f, 0.75f, 1.0f, 0.0f, 2.0f, 0.8f, 0.3f, 0.6f, std::nanf(""), 0.5f, 0.5f});
  const Image<float> outf = run_whole<float>(*make_op("hed"), inf);
  EXPECT_EQ(std::vector<float>(outf.pixels.begin(), outf.pixels.begin() + 9),
            (std::vector<float>{0.075074494f, 0.053301983f, 0.0f, 0.0f, 1.1588336f, 0.0f, 0.0023335014f,
                                0.06484883f, 0.037390642f}));
  for (std::uint32_t c = 0; c < 3; ++c) EXPECT_TRUE(std::isnan(outf.at(0, 3, c))) << c;
}

TEST(Downsample2x, OddEdgesAverageTheirPartialBlocks) {
  std::vector<std::uint16_t> values(7 * 5 * 2);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<std::uint16_t>(i * 977 % 65536);
  const Image<std::uint16_t> in(7, 5, 2, DType::uint16, values);
  const Image<std::uint16_t> out = run_whole<std::uint16_t>(*make_op("downsample2x"), in);
  ASSERT_EQ(out.pixels.size(), 4u * 3 * 2);
  // A full block: floor(mean + 1/2) of its four samples; the last column a 2x1 block; the corner the
  // last pixel itself.
  const auto half_up = [](unsigned sum, unsigned count) { return static_cast<std::uint16_t>((2 * sum + count) / (2 * count)); };
  EXPECT_EQ(out.at(1, 1, 0), half_up(in.at(2, 2, 0) + in.at(2, 3, 0) + in.at(3, 2, 0) + in.at(3, 3, 0), 4));
  EXPECT_EQ(out.at(1, 2, 1), half_up(in.at(2, 4, 1) + in.at(3, 4, 1), 2));
  EXPECT_EQ(out.at(3, 2, 1), in.at(6, 4, 1));
}

TEST(Chain, ShapesForwardsBoxesBackwards) {
  const Chain chain = Chain::parse(std::vector<std::string>{"median:size=5", "downsample2x"});
  EXPECT_EQ(chain.spec(), "median:size=5 | downsample2x");
  const ImageShape in{203, 301, 3, DType::uint8};
  EXPECT_EQ(chain.output_shape(in), (ImageShape{102, 151, 3, DType::uint8}));
  const std::vector<Box> boxes = chain.input_boxes({0, 0, 37, 37}, in);
  ASSERT_EQ(boxes.size(), 3u);
  EXPECT_EQ(boxes[2], (Box{0, 0, 37, 37}));
  EXPECT_EQ(boxes[1], (Box{0, 0, 74, 74}));
  EXPECT_EQ(boxes[0], (Box{0, 0, 76, 76}));
  EXPECT_EQ(chain.input_box({37, 37, 37, 37}, in), (Box{72, 72, 78, 78}));
  EXPECT_EQ(chain.input_box({74, 111, 28, 40}, in), (Box{146, 220, 57, 81}));
  EXPECT_EQ(chain.scratch_bytes({0, 0, 37, 37}, in), 74u * 74u * 3u);

  const Chain mixed = Chain::parse(std::vector<std::string>{"absorbance", "gaussian:sigma=2.5"});
  EXPECT_EQ(mixed.output_shape(in), (ImageShape{203, 301, 3, DType::float32}));
  EXPECT_EQ(mixed.input_box({100, 100, 10, 10}, in), (Box{90, 90, 30, 30}));
  try {
    (void)Chain::parse(std::vector<std::string>{"grayscale", "absorbance"}).shapes(in);
    ADD_FAILURE() << "absorbance took float32";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("op 2 of 2 on 301x203x1 float32: absorbance: needs uint8"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW((void)Chain::parse(std::vector<std::string>{}), UsageError);
  EXPECT_THROW((void)chain.input_boxes({100, 0, 3, 3}, in), UsageError);
}

}  // namespace
}  // namespace tilestream::ops
