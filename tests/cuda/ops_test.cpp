// The CUDA twins of the ops (ops/device.hpp): on odd-sized synthetic images, every op and chain run on
// the whole image on the device equals run_cpu bit for bit, and run tile by tile on the device (tiles
// of 37, 64 and 100 output pixels, inputs cut out to exactly the box the output needs, padded rows)
// equals the whole-image device run bit for bit. Bad arguments are UsageErrors, as on the CPU.
#include "tilestream/ops/device.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <ostream>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ops/op_table.hpp"
#include "support/cuda_test_support.hpp"
#include "tilestream/core/error.hpp"
#include "tilestream/core/float16.hpp"
#include "tilestream/core/host_image.hpp"
#include "tilestream/cuda/device_image.hpp"
#include "tilestream/cuda/error.hpp"
#include "tilestream/cuda/memory.hpp"
#include "tilestream/ops/chain.hpp"
#include "tilestream/ops/op.hpp"

namespace tilestream::cuda {
namespace {

using ops::Box;
using ops::ConstDeviceTileView;
using ops::DeviceTileView;
using ops::ImageShape;
using ops::whole_view;

// A deterministic test image: a diagonal ramp, a checkerboard of 16-pixel squares and per-sample
// offsets, plus uniform noise of +-24 levels, clipped to [0, 255]; then some pure black and white
// pixels (absorbance's clipping at 0 and its -0.0 at 255, the gaussian's clamping). Other dtypes
// scale the same levels: uint16 x 257, int8 - 128, int16 (- 128) x 200, float32 / 255 (never -0.0
// and no NaN, whose median order std::nth_element leaves open).
HostImage make_test_image(std::uint64_t height, std::uint64_t width, std::uint32_t samples, DType dtype,
                          std::uint32_t seed = 1) {
  std::mt19937 noise(seed);
  HostImage image(height, width, samples, dtype);
  for (std::uint64_t y = 0; y < height; ++y) {
    for (std::uint64_t x = 0; x < width; ++x) {
      for (std::uint32_t c = 0; c < samples; ++c) {
        const auto ramp = static_cast<std::int64_t>((x * 160) / width + (y * 96) / height);
        const std::int64_t checker = ((x / 16 + y / 16) % 2) * 40;
        const auto jitter = static_cast<std::int64_t>(noise() % 49) - 24;
        std::int64_t level = std::clamp<std::int64_t>(ramp + checker + 23 * c + jitter, 0, 255);
        if ((x * 31 + y * 17 + c) % 97 == 0) level = 0;
        if ((x * 13 + y * 29 + c) % 101 == 0) level = 255;
        std::byte* at = image.row(y) + (x * samples + c) * bytes_per_sample(dtype);
        const auto put = [at](auto value) { std::memcpy(at, &value, sizeof value); };
        switch (dtype) {
          case DType::uint8: put(static_cast<std::uint8_t>(level)); break;
          case DType::uint16: put(static_cast<std::uint16_t>(level * 257)); break;
          case DType::int8: put(static_cast<std::int8_t>(level - 128)); break;
          case DType::int16: put(static_cast<std::int16_t>((level - 128) * 200)); break;
          case DType::float32: put(static_cast<float>(level) / 255.0f + static_cast<float>(noise() % 1000) * 1e-6f); break;
          case DType::uint32: put(static_cast<std::uint32_t>(level * 16843009 + noise() % 1000)); break;
          case DType::int32: put(static_cast<std::int32_t>((level - 128) * 16777216 + static_cast<std::int64_t>(noise() % 1000))); break;
          case DType::float16:
            put(float16_from_double(static_cast<double>(level - 100) / 7.0 + static_cast<double>(noise() % 1000) * 1e-4));
            break;
        }
      }
    }
  }
  return image;
}

ImageShape shape_of(const HostImage& image) {
  return {image.height(), image.width(), image.samples(), image.dtype()};
}

Box whole_box(const ImageShape& shape) { return {0, 0, shape.height, shape.width}; }

DeviceImage upload(const HostImage& host, const Stream& stream) {
  DeviceImage image(host.height(), host.width(), host.samples(), host.dtype(), stream);
  copy_to_device(image.buffer(), host.bytes(), stream);
  return image;
}

// Tests are written once for an op and for a chain: both have output_shape, input_box and run_cpu;
// on the device an op runs with run_op, a chain with run_chain.
void run_on_device(const ops::Op& op, const ConstDeviceTileView& in, const ImageShape& shape,
                   const DeviceTileView& out, const Stream& stream) {
  run_op(op, in, shape, out, stream);
}
void run_on_device(const ops::Chain& chain, const ConstDeviceTileView& in, const ImageShape& shape,
                   const DeviceTileView& out, const Stream& stream) {
  run_chain(chain, in, shape, out, stream);
}

template <class Ops>
HostImage run_whole_on_cpu(const Ops& ops, const HostImage& in) {
  const ImageShape shape = shape_of(in);
  const ImageShape out_shape = ops.output_shape(shape);
  HostImage out(out_shape.height, out_shape.width, out_shape.samples, out_shape.dtype);
  ops.run_cpu(ops::ConstTileView{in.data(), in.row_bytes(), whole_box(shape)}, shape,
              ops::TileView{out.data(), out.row_bytes(), whole_box(out_shape)});
  return out;
}

template <class Ops>
HostImage run_whole_on_device(const Ops& ops, const HostImage& in) {
  Stream stream;
  const DeviceImage input = upload(in, stream);
  const ImageShape out_shape = ops.output_shape(shape_of(in));
  DeviceImage output(out_shape.height, out_shape.width, out_shape.samples, out_shape.dtype, stream);
  run_on_device(ops, whole_view(input), shape_of(in), whole_view(output), stream);
  return output.to_host(stream);
}

// Output tiles of `chunk` x `chunk` pixels (smaller at the right and bottom edges). Each tile's input
// is copied out of the whole input into a buffer of its own holding exactly the box the output needs,
// with padded rows whose padding is garbage, and its output goes to a padded buffer of its own before
// it is copied into place: a kernel reading outside its tile or writing outside its box shows.
template <class Ops>
HostImage run_tiled_on_device(const Ops& ops, const HostImage& in, std::uint64_t chunk) {
  Stream stream;
  const ImageShape shape = shape_of(in);
  const ImageShape out_shape = ops.output_shape(shape);
  const DeviceImage input = upload(in, stream);
  DeviceImage output(out_shape.height, out_shape.width, out_shape.samples, out_shape.dtype, stream);
  output.buffer().fill(0x7f, stream);
  const std::size_t in_pixel = shape.pixel_bytes(), out_pixel = out_shape.pixel_bytes();
  for (std::uint64_t y = 0; y < out_shape.height; y += chunk) {
    for (std::uint64_t x = 0; x < out_shape.width; x += chunk) {
      const Box out_box{y, x, std::min(chunk, out_shape.height - y), std::min(chunk, out_shape.width - x)};
      const Box in_box = ops.input_box(out_box, shape);
      const std::size_t in_stride = in_box.width * in_pixel + 2 * in_pixel + bytes_per_sample(shape.dtype);
      const std::size_t out_stride = out_box.width * out_pixel + 3 * bytes_per_sample(out_shape.dtype);
      DeviceBuffer in_tile(in_stride * in_box.height, stream);
      in_tile.fill(0xa5, stream);
      check_cuda(cudaMemcpy2DAsync(in_tile.data(), in_stride,
                                   input.data() + in_box.y * input.row_stride() + in_box.x * in_pixel,
                                   input.row_stride(), in_box.width * in_pixel, in_box.height,
                                   cudaMemcpyDeviceToDevice, stream.get()),
                 "cudaMemcpy2DAsync (input tile)");
      DeviceBuffer out_tile(out_stride * out_box.height, stream);
      out_tile.fill(0x5a, stream);
      run_on_device(ops, ConstDeviceTileView{in_tile.data(), in_stride, in_box}, shape,
                    DeviceTileView{out_tile.data(), out_stride, out_box}, stream);
      check_cuda(cudaMemcpy2DAsync(output.data() + out_box.y * output.row_stride() + out_box.x * out_pixel,
                                   output.row_stride(), out_tile.data(), out_stride, out_box.width * out_pixel,
                                   out_box.height, cudaMemcpyDeviceToDevice, stream.get()),
                 "cudaMemcpy2DAsync (output tile)");
    }
  }
  return output.to_host(stream);
}

double sample_value(const HostImage& image, std::size_t index) {
  const std::byte* at = image.data() + index * bytes_per_sample(image.dtype());
  const auto get = [at](auto value) {
    std::memcpy(&value, at, sizeof value);
    return static_cast<double>(value);
  };
  switch (image.dtype()) {
    case DType::uint8: return get(std::uint8_t{});
    case DType::uint16: return get(std::uint16_t{});
    case DType::int8: return get(std::int8_t{});
    case DType::int16: return get(std::int16_t{});
    case DType::float32: return get(float{});
    case DType::uint32: return get(std::uint32_t{});
    case DType::int32: return get(std::int32_t{});
    case DType::float16: {
      std::uint16_t bits;
      std::memcpy(&bits, at, sizeof bits);
      return float16_to_float(bits);
    }
  }
  return 0;
}

// "" when the images are equal bit for bit, else how they differ: how many samples, the largest
// difference and the first differing sample with both values.
std::string bitwise_difference(const HostImage& expected, const HostImage& actual) {
  if (shape_of(expected) != shape_of(actual)) return "the images differ in shape";
  const std::size_t sample = bytes_per_sample(expected.dtype());
  const std::size_t count = expected.size_bytes() / sample;
  std::size_t differing = 0, first = count;
  double largest = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (std::memcmp(expected.data() + i * sample, actual.data() + i * sample, sample) == 0) continue;
    ++differing;
    if (first == count) first = i;
    largest = std::max(largest, std::fabs(sample_value(expected, i) - sample_value(actual, i)));
  }
  if (differing == 0) return "";
  const std::size_t pixel = first / expected.samples();
  return concat(differing, " of ", count, " samples differ, by up to ", largest, "; the first at (y ",
                pixel / expected.width(), ", x ", pixel % expected.width(), ", sample ", first % expected.samples(),
                "): expected ", sample_value(expected, first), ", got ", sample_value(actual, first));
}

// Output sizes that the tests' tiles do not divide: 301 = 8 x 37 + 5 = 4 x 64 + 45 = 3 x 100 + 1,
// 203 = 5 x 37 + 18 = 3 x 64 + 11 = 2 x 100 + 3.
constexpr std::uint64_t test_height = 203, test_width = 301;
constexpr std::uint64_t tile_sizes[] = {37, 64, 100};

// Device equals CPU (whole image) and device tiled equals device whole, all bit for bit.
template <class Ops>
void expect_device_twin(const Ops& ops, const HostImage& in, std::span<const std::uint64_t> tiles) {
  const HostImage cpu = run_whole_on_cpu(ops, in);
  const HostImage gpu = run_whole_on_device(ops, in);
  EXPECT_EQ(bitwise_difference(cpu, gpu), "") << "device (whole image) vs run_cpu";
  for (const std::uint64_t chunk : tiles) {
    const HostImage tiled = run_tiled_on_device(ops, in, chunk);
    EXPECT_EQ(bitwise_difference(gpu, tiled), "") << "device tiles of " << chunk << " vs device whole image";
  }
}

// A gtest name for a spec: "gaussian:sigma=2.5" -> "gaussian_sigma_2_5".
std::string test_name(std::string text) {
  for (char& c : text)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return text;
}

// Every op on the RGB uint8 test image.

class CudaOps : public testing::CudaTestWithParam<const char*> {};

TEST_P(CudaOps, WholeEqualsCpuAndTiledEqualsWhole) {
  const std::unique_ptr<ops::Op> op = ops::make_op(GetParam());
  const HostImage in = make_test_image(test_height, test_width, 3, DType::uint8);
  expect_device_twin(*op, in, tile_sizes);
}

INSTANTIATE_TEST_SUITE_P(RgbUint8, CudaOps,
                         ::testing::Values("absorbance", "sobel", "gaussian:sigma=2.5", "gaussian:sigma=0.6",
                                           "median:size=5", "median:size=3", "median:size=1", "median:size=9",
                                           "grayscale", "hed", "downsample2x", "cast:dtype=float32"),
                         [](const ::testing::TestParamInfo<const char*>& param) { return test_name(param.param); });

// The chains of the use cases.

class CudaChains : public testing::CudaTestWithParam<std::vector<std::string>> {};

TEST_P(CudaChains, WholeEqualsCpuAndTiledEqualsWhole) {
  const ops::Chain chain = ops::Chain::parse(GetParam());
  const HostImage in = make_test_image(test_height, test_width, 3, DType::uint8, 7);
  expect_device_twin(chain, in, tile_sizes);
}

INSTANTIATE_TEST_SUITE_P(RgbUint8, CudaChains,
                         ::testing::Values(std::vector<std::string>{"absorbance", "gaussian:sigma=2.5"},
                                           std::vector<std::string>{"grayscale", "sobel"},
                                           std::vector<std::string>{"median:size=5", "downsample2x"}),
                         [](const ::testing::TestParamInfo<std::vector<std::string>>& param) {
                           std::string name;
                           for (const std::string& spec : param.param) name += (name.empty() ? "" : " then ") + spec;
                           return test_name(name);
                         });

// Every op on every sample type it takes, on a small image with odd sizes and 2 samples (3 for
// grayscale and hed), tiles of 16.

struct DtypeCase {
  const char* spec;
  DType dtype;
};

void PrintTo(const DtypeCase& c, std::ostream* out) { *out << c.spec << " on " << to_string(c.dtype); }

std::vector<DtypeCase> dtype_cases() {
  std::vector<DtypeCase> cases;
  const DType filters[] = {DType::uint8, DType::uint16, DType::float32};
  for (const DType d : filters) {
    cases.push_back({"sobel", d});
    cases.push_back({"gaussian:sigma=1.5", d});
    cases.push_back({"grayscale", d});
    cases.push_back({"hed", d});
  }
  for (const DType d : all_dtypes) {
    cases.push_back({"median:size=3", d});
    cases.push_back({"median:size=11", d});
    cases.push_back({"downsample2x", d});
    cases.push_back({"cast:dtype=float32", d});
  }
  return cases;
}

class CudaOpsDtypes : public testing::CudaTestWithParam<DtypeCase> {};

TEST_P(CudaOpsDtypes, WholeEqualsCpuAndTiledEqualsWhole) {
  const std::unique_ptr<ops::Op> op = ops::make_op(GetParam().spec);
  const std::uint32_t samples = op->name() == "grayscale" || op->name() == "hed" ? 3 : 2;
  const HostImage in = make_test_image(45, 67, samples, GetParam().dtype, 3);
  const std::uint64_t tiles[] = {16};
  expect_device_twin(*op, in, tiles);
}

INSTANTIATE_TEST_SUITE_P(AllTypes, CudaOpsDtypes, ::testing::ValuesIn(dtype_cases()),
                         [](const ::testing::TestParamInfo<DtypeCase>& param) {
                           return test_name(concat(param.param.spec, " ", to_string(param.param.dtype)));
                         });

// The table of ops, entry by entry: every op (with its defaults) on every sample type it takes, RGB,
// has a CUDA twin equal to its CPU run and tiled equal to whole. A new op is covered here without a
// line of its own.
using CudaOpsTable = testing::CudaTest;

TEST_F(CudaOpsTable, EveryEntryHasItsTwin) {
  for (const ops::detail::OpEntry& entry : ops::detail::op_table()) {
    ASSERT_NE(entry.launch, nullptr) << entry.name;
    const std::unique_ptr<ops::Op> op = ops::make_op(entry.name);
    std::size_t taken = 0;
    for (const DType dtype : all_dtypes) {
      const HostImage in = make_test_image(29, 43, 3, dtype, 7);
      try {
        op->output_shape(shape_of(in));
      } catch (const UsageError&) {
        continue;  // a sample type the op does not take
      }
      ++taken;
      SCOPED_TRACE(concat(op->spec(), " on ", to_string(dtype)));
      const std::uint64_t tiles[] = {8};
      expect_device_twin(*op, in, tiles);
    }
    EXPECT_GT(taken, 0u) << entry.name << " takes no RGB input";
  }
}

// Border handling on images smaller than the halo: every border index clamps to the image.
using CudaOpsBorders = testing::CudaTest;

TEST_F(CudaOpsBorders, TinyImagesNarrowerThanTheHalo) {
  for (const char* spec : {"gaussian:sigma=3", "median:size=7", "sobel", "downsample2x"}) {
    const std::unique_ptr<ops::Op> op = ops::make_op(spec);
    for (const auto& [h, w] : {std::pair<std::uint64_t, std::uint64_t>{1, 1}, {1, 5}, {4, 1}, {3, 2}}) {
      SCOPED_TRACE(concat(spec, " on ", w, "x", h));
      const HostImage in = make_test_image(h, w, 1, DType::uint8, 5);
      const std::uint64_t tiles[] = {1};
      expect_device_twin(*op, in, tiles);
    }
  }
}

// Bad arguments.

using CudaOpsArguments = testing::CudaTest;

TEST_F(CudaOpsArguments, RefusesWhatRunCpuRefusesAndMemoryNotOnTheDevice) {
  Stream stream;
  const std::unique_ptr<ops::Op> median = ops::make_op("median:size=5");
  const ImageShape shape{40, 50, 3, DType::uint8};
  DeviceImage in(40, 50, 3, DType::uint8, stream);
  DeviceImage out(40, 50, 3, DType::uint8, stream);
  const ConstDeviceTileView whole_in = whole_view(std::as_const(in));
  const DeviceTileView whole_out = whole_view(out);

  // An input box other than the one the output needs (here: the output box without its halo).
  const Box out_box{10, 10, 8, 8};
  const ConstDeviceTileView short_in{in.data(), in.row_stride(), out_box};
  const DeviceTileView out_tile{out.data(), out.row_stride(), out_box};
  EXPECT_THROW(run_op(*median, short_in, shape, out_tile, stream), UsageError);
  // An output box outside the output.
  EXPECT_THROW(run_op(*median, whole_in, shape, DeviceTileView{out.data(), out.row_stride(), {0, 0, 41, 50}}, stream),
               UsageError);
  // A short row stride, no memory.
  EXPECT_THROW(run_op(*median, whole_in, shape, DeviceTileView{out.data(), 149, whole_out.box}, stream), UsageError);
  EXPECT_THROW(run_op(*median, whole_in, shape, DeviceTileView{nullptr, out.row_stride(), whole_out.box}, stream),
               UsageError);
  // A dtype the op does not take.
  const std::unique_ptr<ops::Op> absorbance = ops::make_op("absorbance");
  EXPECT_THROW(run_op(*absorbance, whole_in, ImageShape{40, 50, 3, DType::uint16}, whole_out, stream), UsageError);
  // Host memory.
  std::vector<std::byte> host(out.size_bytes());
  EXPECT_THROW(run_op(*median, whole_in, shape, DeviceTileView{host.data(), out.row_stride(), whole_out.box}, stream),
               UsageError);
  // Float samples not aligned to 4 bytes.
  DeviceImage floats(40, 50, 3, DType::float32, stream);
  EXPECT_THROW(run_op(*absorbance, whole_in, shape, DeviceTileView{floats.data() + 2, floats.row_stride(), whole_out.box},
                      stream),
               UsageError);
  // A chain's input box.
  const ops::Chain chain = ops::Chain::parse(std::vector<std::string>{"median:size=3", "downsample2x"});
  EXPECT_THROW(run_chain(chain, short_in, shape, DeviceTileView{out.data(), out.row_stride(), {0, 0, 4, 4}}, stream),
               UsageError);
  stream.synchronize();  // nothing was queued that fails
}

}  // namespace
}  // namespace tilestream::cuda
